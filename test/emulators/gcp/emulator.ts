// An emulator of Google Secret Manager's REST API v1 (versions:access and versions.get), the OAuth2
// token endpoint with the JWT bearer grant (RFC 7523) for service-account keys, and the metadata
// server's token and project-id endpoints. Error bodies are `{"error":{"code","message","status"}}`.
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { crc32c as referenceCrc } from './crc32c-reference.js';
import { HttpEmulator, formBody, type EmulatorRequest, type EmulatorResponse } from '../http.js';

export type VersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface GcpVersion {
  readonly n: number;
  readonly data: Buffer;
  state: VersionState;
  /** When set, the checksum sent instead of the real one (corruption tests). */
  badCrc?: boolean;
  /** Versions created without a client checksum carry no dataCrc32c. */
  noCrc?: boolean;
}

export interface GcpSecret {
  readonly versions: GcpVersion[];
  readonly aliases: Map<string, number>;
  denied?: boolean;
}

export interface ServiceAccount {
  readonly email: string;
  readonly keyId: string;
  readonly privateKeyPem: string;
  readonly publicKey: KeyObject;
}

function gErr(code: number, status: string, message: string, headers?: Record<string, string>): EmulatorResponse {
  return { status: code, ...(headers ? { headers } : {}), body: { error: { code, message, status } } };
}

export class GcpEmulator extends HttpEmulator {
  readonly secrets = new Map<string, GcpSecret>();
  readonly accounts = new Map<string, ServiceAccount>();
  readonly #tokens = new Map<string, number>();
  #issued = 0;
  /** Token issued by the metadata server. */
  metadataProject = 'meta-project';
  /** When set, every API request fails with it. */
  failure: EmulatorResponse | undefined;
  readonly calls: string[] = [];

  /** A new service account with a fresh RSA key; returns the JSON key file contents. */
  serviceAccountKey(email = 'keyway-test@emu-project.iam.gserviceaccount.com', project = 'emu-project'): string {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyId = `kid-${this.accounts.size + 1}`;
    this.accounts.set(email, { email, keyId, privateKeyPem: pem, publicKey: createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })) });
    return JSON.stringify({ type: 'service_account', project_id: project, private_key_id: keyId, private_key: pem, client_email: email, client_id: '1', token_uri: `${this.url}/token` });
  }

  addVersion(project: string, secret: string, data: string | Buffer): number {
    const key = `${project}/${secret}`;
    let s = this.secrets.get(key);
    if (!s) {
      s = { versions: [], aliases: new Map() };
      this.secrets.set(key, s);
    }
    const n = s.versions.length + 1;
    s.versions.push({ n, data: Buffer.from(data), state: 'ENABLED' });
    return n;
  }

  version(project: string, secret: string, n: number): GcpVersion {
    const v = this.secrets.get(`${project}/${secret}`)?.versions.find((x) => x.n === n);
    if (!v) throw new Error('no such version');
    return v;
  }

  /** Invalidates every issued access token, as if they all expired. */
  revokeTokens(): void {
    this.#tokens.clear();
  }

  issueToken(): string {
    const t = `ya29.emu-${++this.#issued}`;
    this.#tokens.set(t, Date.now() + 3600_000);
    return t;
  }

  protected handle(req: EmulatorRequest): EmulatorResponse {
    const p = req.url.pathname;
    if (p === '/token') return this.#token(req);
    if (p.startsWith('/computeMetadata/v1/')) return this.#metadata(req);
    if (p.startsWith('/v1/')) return this.#api(req);
    return gErr(404, 'NOT_FOUND', 'The requested URL was not found on this server.');
  }

  #token(req: EmulatorRequest): EmulatorResponse {
    const bad = (description: string): EmulatorResponse => ({ status: 400, body: { error: 'invalid_grant', error_description: description } });
    if (req.method !== 'POST') return { status: 405 };
    const form = formBody(req);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'Invalid grant_type' } };
    const parts = (form.get('assertion') ?? '').split('.');
    if (parts.length !== 3) return bad('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe');
    const [h = '', c = '', s = ''] = parts;
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    } catch {
      return bad('Invalid JWT');
    }
    const account = this.accounts.get(String(claims.iss));
    if (header.alg !== 'RS256' || !account) return bad('Invalid JWT Signature.');
    if (header.kid !== undefined && header.kid !== account.keyId) return bad('Invalid JWT Signature.');
    if (!verify('sha256', Buffer.from(`${h}.${c}`), account.publicKey, Buffer.from(s, 'base64url'))) return bad('Invalid JWT Signature.');
    const now = Date.now() / 1000;
    if (claims.aud !== `${this.url}/token`) return bad('Invalid JWT: audience does not match the token endpoint');
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600 || claims.exp < now || claims.iat > now + 300) {
      return bad('Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform')) return { status: 400, body: { error: 'invalid_scope', error_description: 'Invalid OAuth scope or ID token audience provided.' } };
    return { status: 200, body: { access_token: this.issueToken(), expires_in: 3599, token_type: 'Bearer' } };
  }

  #metadata(req: EmulatorRequest): EmulatorResponse {
    const flavor = { 'metadata-flavor': 'Google' };
    if (req.headers['metadata-flavor'] !== 'Google') return { status: 403, headers: flavor, body: 'Missing required header "Metadata-Flavor": "Google"' };
    if (req.url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') return { status: 200, headers: flavor, body: { access_token: this.issueToken(), expires_in: 3599, token_type: 'Bearer' } };
    if (req.url.pathname === '/computeMetadata/v1/project/project-id') return { status: 200, headers: { ...flavor, 'content-type': 'application/text' }, body: this.metadataProject };
    return { status: 404, headers: flavor, body: 'Not Found' };
  }

  #api(req: EmulatorRequest): EmulatorResponse {
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const exp = this.#tokens.get(token);
    if (exp === undefined || exp < Date.now()) {
      return gErr(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
    }
    if (this.failure) return this.failure;
    if (req.method !== 'GET') return gErr(405, 'INVALID_ARGUMENT', 'Method not allowed');
    const m = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/:]+)(:access)?$/.exec(req.url.pathname);
    if (!m) return gErr(404, 'NOT_FOUND', 'The requested URL was not found on this server.');
    const [, project = '', secretId = '', ver = '', access] = m;
    this.calls.push(access ? 'access' : 'get');
    const resource = `projects/${project}/secrets/${secretId}/versions/${ver}`;
    const s = this.secrets.get(`${project}/${secretId}`);
    if (s?.denied) return gErr(403, 'PERMISSION_DENIED', `Permission '${access ? 'secretmanager.versions.access' : 'secretmanager.versions.get'}' denied for resource '${resource}' (or it may not exist).`);
    if (!s || s.versions.length === 0) return gErr(404, 'NOT_FOUND', `Secret [projects/${project}/secrets/${secretId}] not found or has no versions.`);
    // `latest` is the newest version whatever its state, as documented.
    const n = ver === 'latest' ? s.versions.length : /^\d+$/.test(ver) ? Number(ver) : s.aliases.get(ver);
    const v = s.versions.find((x) => x.n === n);
    if (!v) return gErr(404, 'NOT_FOUND', `Secret Version [${resource}] not found.`);
    const name = `projects/${project}/secrets/${secretId}/versions/${v.n}`;
    if (!access) return { status: 200, body: { name, createTime: new Date().toISOString(), state: v.state, etag: `"${v.n}-${v.state}"` } };
    if (v.state !== 'ENABLED') return gErr(400, 'FAILED_PRECONDITION', `Secret Version [${name}] is in ${v.state} state.`);
    const crc = referenceCrc(v.data) ^ (v.badCrc ? 1 : 0);
    return { status: 200, body: { name, payload: { data: v.data.toString('base64'), ...(v.noCrc ? {} : { dataCrc32c: String(crc >>> 0) }) } } };
  }
}
