// An emulator of Azure Key Vault's secrets REST API (api-version 7.4) together with the Entra ID
// v2.0 token endpoint (client credentials with a secret or a client assertion), the instance
// metadata managed-identity endpoint and the App Service identity endpoint. Unauthenticated vault
// requests get the documented 401 Bearer challenge.
import { randomBytes } from 'node:crypto';
import { HttpEmulator, formBody, type EmulatorRequest, type EmulatorResponse } from '../http.js';

export const VAULT_RESOURCE = 'https://vault.azure.net';

export interface KvVersion {
  readonly id: string;
  readonly value: string;
  readonly contentType?: string;
  enabled: boolean;
  readonly created: number;
}

export interface KvSecret {
  readonly versions: KvVersion[];
  denied?: boolean;
}

export interface AppRegistration {
  readonly secret?: string;
  /** A federated credential: the assertion (a Kubernetes service-account token) it accepts. */
  readonly assertion?: string;
}

function kvErr(status: number, code: string, message: string, inner?: string, headers?: Record<string, string>): EmulatorResponse {
  return { status, ...(headers ? { headers } : {}), body: { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } } };
}

export class AzureEmulator extends HttpEmulator {
  readonly secrets = new Map<string, KvSecret>();
  readonly apps = new Map<string, AppRegistration>();
  readonly #tokens = new Map<string, { aud: string; exp: number }>();
  /** When set, every vault request (after authentication) fails with it. */
  failure: EmulatorResponse | undefined;
  /** Header expected by the App Service identity endpoint. */
  identityHeader = 'emu-identity-header';
  /** Audience of tokens handed out by the managed identity endpoints (tests can break it). */
  managedIdentityAudience = VAULT_RESOURCE;
  readonly calls: string[] = [];

  constructor(readonly tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47') {
    super();
  }

  setSecret(name: string, value: string, contentType?: string): string {
    let s = this.secrets.get(name);
    if (!s) {
      s = { versions: [] };
      this.secrets.set(name, s);
    }
    const id = randomBytes(16).toString('hex');
    s.versions.push({ id, value, ...(contentType ? { contentType } : {}), enabled: true, created: Math.floor(Date.now() / 1000) });
    return id;
  }

  revokeTokens(): void {
    this.#tokens.clear();
  }

  #issue(aud: string): string {
    const t = `eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.emu.${randomBytes(12).toString('hex')}`;
    this.#tokens.set(t, { aud, exp: Date.now() + 3600_000 });
    return t;
  }

  protected handle(req: EmulatorRequest): EmulatorResponse {
    const p = req.url.pathname;
    if (p === `/${this.tenant}/oauth2/v2.0/token` || /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(p)) return this.#token(req);
    if (p === '/metadata/identity/oauth2/token') return this.#imds(req);
    if (p === '/msi/token') return this.#appService(req);
    if (p.startsWith('/secrets/')) return this.#vault(req);
    return kvErr(404, 'NotFound', 'Not found');
  }

  #token(req: EmulatorRequest): EmulatorResponse {
    const tenant = req.url.pathname.split('/')[1];
    if (tenant !== this.tenant) return { status: 400, body: { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${tenant ?? ''}' not found.`, error_codes: [90002] } };
    const form = formBody(req);
    if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type', error_description: 'AADSTS70003: The app requested an unsupported grant type.' } };
    const clientId = form.get('client_id') ?? '';
    const app = this.apps.get(clientId);
    if (!app) return { status: 400, body: { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`, error_codes: [700016] } };
    const assertion = form.get('client_assertion');
    if (assertion !== null) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || app.assertion === undefined || assertion !== app.assertion) {
        return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS700211: No matching federated identity record found for presented assertion issuer.', error_codes: [700211] } };
      }
    } else if (app.secret === undefined || form.get('client_secret') !== app.secret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.', error_codes: [7000215] } };
    }
    const scope = form.get('scope') ?? '';
    if (!scope.endsWith('/.default')) return { status: 400, body: { error: 'invalid_scope', error_description: `AADSTS1002012: The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.` } };
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: this.#issue(scope.slice(0, -'/.default'.length)) } };
  }

  #miToken(resource: string): EmulatorResponse {
    const now = Math.floor(Date.now() / 1000);
    return { status: 200, body: { access_token: this.#issue(this.managedIdentityAudience), client_id: 'mi-client', expires_in: '86399', expires_on: String(now + 86399), ext_expires_in: '86399', not_before: String(now), resource, token_type: 'Bearer' } };
  }

  #imds(req: EmulatorRequest): EmulatorResponse {
    if (req.headers.metadata !== 'true') return { status: 400, body: { error: 'invalid_request', error_description: 'Required metadata header not specified' } };
    if (req.url.searchParams.get('api-version') === null) return { status: 400, body: { error: 'invalid_request', error_description: 'Required query variable \'api-version\' is missing' } };
    const resource = req.url.searchParams.get('resource');
    if (!resource) return { status: 400, body: { error: 'invalid_request', error_description: 'Required query variable \'resource\' is missing' } };
    return this.#miToken(resource);
  }

  #appService(req: EmulatorRequest): EmulatorResponse {
    if (req.headers['x-identity-header'] !== this.identityHeader) return { status: 401, body: { statusCode: 401, message: 'Unauthorized' } };
    return this.#miToken(req.url.searchParams.get('resource') ?? '');
  }

  #vault(req: EmulatorRequest): EmulatorResponse {
    const challenge = { 'www-authenticate': `Bearer authorization="${this.url}/${this.tenant}", resource="${VAULT_RESOURCE}"` };
    const auth = String(req.headers.authorization ?? '');
    if (!auth.startsWith('Bearer ')) return kvErr(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', undefined, challenge);
    const tok = this.#tokens.get(auth.slice(7));
    if (!tok || tok.exp < Date.now()) return kvErr(401, 'Unauthorized', 'AKV10032: Invalid issuer. Expected one of https://sts.windows.net/..., found https://sts.windows.net/other/.', undefined, challenge);
    if (tok.aud !== VAULT_RESOURCE) return kvErr(401, 'Unauthorized', 'AKV10022: Invalid audience. Expected https://vault.azure.net, found: ' + tok.aud + '.', undefined, challenge);
    if (req.url.searchParams.get('api-version') === null) return kvErr(400, 'BadParameter', 'api-version query parameter is missing');
    if (this.failure) return this.failure;
    const m = /^\/secrets\/([^/]+)(?:\/([^/]*))?$/.exec(req.url.pathname);
    if (!m || req.method !== 'GET') return kvErr(400, 'BadParameter', 'Method or path not supported by the emulator');
    const [, name = '', version] = m;
    this.calls.push(`get ${name}`);
    const s = this.secrets.get(name);
    if (s?.denied) {
      return kvErr(403, 'Forbidden', `The user, group or application 'appid=app;oid=0000' does not have secrets get permission on key vault 'emu;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`, 'AccessDenied');
    }
    const v = s ? (version ? s.versions.find((x) => x.id === version) : s.versions[s.versions.length - 1]) : undefined;
    if (!s || !v) return kvErr(404, 'SecretNotFound', `A secret with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`);
    if (!v.enabled) return kvErr(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
    return {
      status: 200,
      body: {
        value: v.value,
        ...(v.contentType ? { contentType: v.contentType } : {}),
        id: `${this.url}/secrets/${name}/${v.id}`,
        attributes: { enabled: v.enabled, created: v.created, updated: v.created, recoveryLevel: 'Recoverable+Purgeable', recoverableDays: 90 },
        tags: {},
      },
    };
  }
}
