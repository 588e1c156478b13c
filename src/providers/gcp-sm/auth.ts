// Google OAuth2 access tokens for Secret Manager, from (in order of preference when `auth = "auto"`):
// a token file kept fresh by someone else, a service-account JSON key (signed JWT exchanged at the
// key's token_uri, RFC 7523), or the metadata server of the VM/pod the daemon runs on.
import { readFileSync } from 'node:fs';
import { sign } from 'node:crypto';
import { KeywayError } from '../../core/errors.js';
import { httpRequest } from '../kit/http.js';
import { backendMessage, isRecord, parseJsonBody, tokenFresh, type CachedToken } from '../kit/values.js';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';

export type GcpAuthMode = 'token_file' | 'service_account' | 'metadata';

export interface GcpAuthOptions {
  readonly mode: GcpAuthMode;
  readonly tokenFile?: string;
  readonly credentialsFile?: string;
  readonly metadataBase: string;
  readonly timeoutMs: number;
  readonly what: string;
}

interface ServiceAccountKey {
  readonly clientEmail: string;
  readonly privateKey: string;
  readonly privateKeyId?: string;
  readonly tokenUri: string;
  readonly projectId?: string;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

export class GcpTokenSource {
  readonly #o: GcpAuthOptions;
  #cached: CachedToken | undefined;

  constructor(o: GcpAuthOptions) {
    this.#o = o;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  async token(signal: AbortSignal): Promise<string> {
    if (this.#o.mode === 'token_file') return this.#fromFile();
    if (tokenFresh(this.#cached)) return this.#cached.token;
    this.#cached = this.#o.mode === 'service_account' ? await this.#fromServiceAccount(signal) : await this.#fromMetadata(signal);
    return this.#cached.token;
  }

  /** The project of the service-account key, or of the metadata server's VM. */
  async defaultProject(signal: AbortSignal): Promise<string | undefined> {
    if (this.#o.mode === 'service_account') return this.#readKey().projectId;
    if (this.#o.mode !== 'metadata') return undefined;
    const res = await httpRequest({ method: 'GET', url: `${this.#o.metadataBase}/computeMetadata/v1/project/project-id`, headers: { 'metadata-flavor': 'Google' }, signal, timeoutMs: this.#o.timeoutMs, what: `${this.#o.what}: metadata server` });
    const text = res.body.toString('utf8').trim();
    return res.status === 200 && text.length > 0 ? text : undefined;
  }

  #fromFile(): string {
    const path = this.#o.tokenFile ?? '';
    try {
      const t = readFileSync(path, 'utf8').trim();
      if (t.length === 0) throw new KeywayError('unauthenticated', `${this.#o.what}: token file ${path} is empty`);
      return t;
    } catch (e) {
      if (e instanceof KeywayError) throw e;
      throw new KeywayError('unauthenticated', `${this.#o.what}: cannot read token file ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
    }
  }

  #readKey(): ServiceAccountKey {
    const path = this.#o.credentialsFile ?? '';
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    } catch (e) {
      throw new KeywayError('unauthenticated', `${this.#o.what}: cannot read service account key ${path} (${(e as NodeJS.ErrnoException).code ?? 'not JSON'})`, { cause: e });
    }
    if (!isRecord(doc) || doc.type !== 'service_account' || typeof doc.client_email !== 'string' || typeof doc.private_key !== 'string') {
      throw new KeywayError('unsupported', `${this.#o.what}: ${path} is not a service account key (type "service_account" with client_email and private_key); other credential types are not supported`);
    }
    return {
      clientEmail: doc.client_email,
      privateKey: doc.private_key,
      ...(typeof doc.private_key_id === 'string' ? { privateKeyId: doc.private_key_id } : {}),
      tokenUri: typeof doc.token_uri === 'string' ? doc.token_uri : DEFAULT_TOKEN_URI,
      ...(typeof doc.project_id === 'string' ? { projectId: doc.project_id } : {}),
    };
  }

  async #fromServiceAccount(signal: AbortSignal): Promise<CachedToken> {
    const key = this.#readKey();
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
    const claims = { iss: key.clientEmail, scope: CLOUD_PLATFORM_SCOPE, aud: key.tokenUri, iat: now, exp: now + 3600 };
    const unsigned = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    let signature: Buffer;
    try {
      signature = sign('sha256', Buffer.from(unsigned), key.privateKey);
    } catch (e) {
      throw new KeywayError('unauthenticated', `${this.#o.what}: the private_key of ${this.#o.credentialsFile ?? ''} is not a usable RSA key`, { cause: e });
    }
    const body = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${unsigned}.${b64url(signature)}` }).toString();
    const res = await httpRequest({ method: 'POST', url: key.tokenUri, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal, timeoutMs: this.#o.timeoutMs, what: `${this.#o.what}: token exchange at ${new URL(key.tokenUri).host}` });
    return parseTokenResponse(res.status, parseJsonBody(res.body), `${this.#o.what}: token exchange for ${key.clientEmail}`);
  }

  async #fromMetadata(signal: AbortSignal): Promise<CachedToken> {
    const url = `${this.#o.metadataBase}/computeMetadata/v1/instance/service-accounts/default/token`;
    let res;
    try {
      res = await httpRequest({ method: 'GET', url, headers: { 'metadata-flavor': 'Google' }, signal, timeoutMs: this.#o.timeoutMs, what: `${this.#o.what}: metadata server` });
    } catch (e) {
      // A name that does not resolve means "not on GCP" (GCE images list it in /etc/hosts), not an outage.
      if (e instanceof KeywayError && e.code === 'unavailable' && /ENOTFOUND|EAI_AGAIN/.test(e.message)) {
        throw new KeywayError('unauthenticated', `${this.#o.what}: no credentials (no token_file, credentials_file or GOOGLE_APPLICATION_CREDENTIALS, and ${this.#o.metadataBase} does not resolve)`, { cause: e });
      }
      throw e;
    }
    // The header proves we talk to a metadata server, not something else at that address.
    if (res.status === 200 && res.header('metadata-flavor') !== 'Google') {
      res.body.fill(0);
      throw new KeywayError('unauthenticated', `${this.#o.what}: ${this.#o.metadataBase} did not answer as a GCE metadata server (no Metadata-Flavor: Google)`);
    }
    return parseTokenResponse(res.status, parseJsonBody(res.body), `${this.#o.what}: metadata server token`);
  }
}

function parseTokenResponse(status: number, doc: unknown, what: string): CachedToken {
  if (status !== 200 || !isRecord(doc) || typeof doc.access_token !== 'string') {
    const reason = isRecord(doc) ? [doc.error, backendMessage(doc.error_description)].filter((x) => typeof x === 'string' && x.length > 0).join(': ') : '';
    const code = status >= 500 ? 'unavailable' : 'unauthenticated';
    throw new KeywayError(code, `${what} failed (HTTP ${status}${reason ? `, ${reason}` : ''})`);
  }
  const expiresIn = typeof doc.expires_in === 'number' ? doc.expires_in : Number(doc.expires_in ?? 3600);
  return { token: doc.access_token, expiresAt: Date.now() + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000 };
}
