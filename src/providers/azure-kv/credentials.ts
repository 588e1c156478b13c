// Microsoft Entra ID access tokens for Key Vault: client credentials with a client secret or a
// federated assertion (workload identity), or a managed identity (IMDS, or the App Service
// IDENTITY_ENDPOINT). Tokens are cached per scope and tenant until a minute before expiry.
import { readFileSync } from 'node:fs';
import { KeywayError } from '../../core/errors.js';
import { httpRequest } from '../kit/http.js';
import { backendMessage, isRecord, parseJsonBody, tokenFresh, type CachedToken } from '../kit/values.js';

export type AzureAuthMode = 'client_secret' | 'workload_identity' | 'managed_identity';

export interface AzureCredentialOptions {
  readonly mode: AzureAuthMode;
  readonly authorityHost: string;
  readonly tenantId?: string;
  readonly clientId?: string;
  /** Client secret as given by AZURE_CLIENT_SECRET; prefer clientSecretFile. */
  readonly clientSecret?: string;
  readonly clientSecretFile?: string;
  readonly federatedTokenFile?: string;
  readonly imdsEndpoint: string;
  /** App Service / Functions managed identity endpoint and header (IDENTITY_ENDPOINT, IDENTITY_HEADER). */
  readonly identityEndpoint?: string;
  readonly identityHeader?: string;
  readonly timeoutMs: number;
  readonly what: string;
}

function readSecretFile(path: string, what: string, label: string): string {
  try {
    const s = readFileSync(path, 'utf8').trim();
    if (s.length === 0) throw new KeywayError('unauthenticated', `${what}: ${label} ${path} is empty`);
    return s;
  } catch (e) {
    if (e instanceof KeywayError) throw e;
    throw new KeywayError('unauthenticated', `${what}: cannot read ${label} ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
}

export class AzureCredential {
  readonly #o: AzureCredentialOptions;
  readonly #cache = new Map<string, CachedToken>();

  constructor(o: AzureCredentialOptions) {
    this.#o = o;
  }

  invalidate(): void {
    this.#cache.clear();
  }

  async token(scope: string, challengeTenant: string | undefined, signal: AbortSignal): Promise<string> {
    // A configured tenant wins over the one the vault names: the vault must not pick our tenant.
    const tenant = this.#o.tenantId ?? challengeTenant;
    const key = `${scope}|${tenant ?? ''}`;
    const c = this.#cache.get(key);
    if (tokenFresh(c)) return c.token;
    const fresh = this.#o.mode === 'managed_identity' ? await this.#managedIdentity(scope, signal) : await this.#clientCredentials(scope, tenant, signal);
    this.#cache.set(key, fresh);
    return fresh.token;
  }

  async #clientCredentials(scope: string, tenant: string | undefined, signal: AbortSignal): Promise<CachedToken> {
    const what = this.#o.what;
    if (!tenant) throw new KeywayError('unauthenticated', `${what}: no tenant (set tenant_id or AZURE_TENANT_ID)`);
    if (!/^[A-Za-z0-9.-]{1,100}$/.test(tenant)) throw new KeywayError('unauthenticated', `${what}: tenant ${JSON.stringify(tenant.slice(0, 100))} is not a tenant id or domain`);
    if (!this.#o.clientId) throw new KeywayError('unauthenticated', `${what}: no client id (set client_id or AZURE_CLIENT_ID)`);
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: this.#o.clientId, scope });
    if (this.#o.mode === 'workload_identity') {
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', readSecretFile(this.#o.federatedTokenFile ?? '', what, 'federated token file'));
    } else {
      const secret = this.#o.clientSecretFile ? readSecretFile(this.#o.clientSecretFile, what, 'client secret file') : this.#o.clientSecret;
      if (!secret) throw new KeywayError('unauthenticated', `${what}: no client secret (set client_secret_file or AZURE_CLIENT_SECRET)`);
      form.set('client_secret', secret);
    }
    const url = `${this.#o.authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
    const res = await httpRequest({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), signal, timeoutMs: this.#o.timeoutMs, what: `${what}: token request` });
    return parseToken(res.status, parseJsonBody(res.body), `${what}: token request for client ${this.#o.clientId} in tenant ${tenant}`);
  }

  async #managedIdentity(scope: string, signal: AbortSignal): Promise<CachedToken> {
    const resource = scope.replace(/\/\.default$/, '');
    const what = `${this.#o.what}: managed identity`;
    let url: URL;
    let headers: Record<string, string>;
    if (this.#o.identityEndpoint && this.#o.identityHeader) {
      url = new URL(this.#o.identityEndpoint);
      url.searchParams.set('api-version', '2019-08-01');
      headers = { 'x-identity-header': this.#o.identityHeader };
    } else {
      url = new URL(`${this.#o.imdsEndpoint.replace(/\/+$/, '')}/metadata/identity/oauth2/token`);
      url.searchParams.set('api-version', '2018-02-01');
      headers = { metadata: 'true' };
    }
    url.searchParams.set('resource', resource);
    if (this.#o.clientId) url.searchParams.set('client_id', this.#o.clientId);
    let res;
    try {
      res = await httpRequest({ method: 'GET', url: url.toString(), headers, signal, timeoutMs: this.#o.timeoutMs, what });
    } catch (e) {
      if (signal.aborted || !(e instanceof KeywayError)) throw e;
      throw new KeywayError(e.code, `${e.message}; outside Azure, configure client_id with client_secret_file (or AZURE_CLIENT_SECRET) or a federated token file`, { cause: e });
    }
    return parseToken(res.status, parseJsonBody(res.body), what);
  }
}

function parseToken(status: number, doc: unknown, what: string): CachedToken {
  if (status !== 200 || !isRecord(doc) || typeof doc.access_token !== 'string') {
    const reason = isRecord(doc) ? [doc.error, backendMessage(doc.error_description)].filter((x) => typeof x === 'string' && x.length > 0).join(': ') : '';
    throw new KeywayError(status >= 500 ? 'unavailable' : status === 429 ? 'throttled' : 'unauthenticated', `${what} failed (HTTP ${status}${reason ? `, ${reason}` : ''})`);
  }
  // Entra answers expires_in as a number; IMDS as strings, with expires_on in epoch seconds.
  const on = Number(doc.expires_on);
  const inSecs = Number(doc.expires_in);
  const expiresAt = Number.isFinite(on) && on > 1e9 ? on * 1000 : Date.now() + (Number.isFinite(inSecs) ? inSecs : 3600) * 1000;
  return { token: doc.access_token, expiresAt };
}
