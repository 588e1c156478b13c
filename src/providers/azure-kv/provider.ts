// `azure-kv`: Azure Key Vault secrets over the documented REST API (api-version 7.4), no SDK.
// Paths: `SECRET[/VERSION]` with vault_url configured, else `VAULT/SECRET[/VERSION]`.
// Options: version, encoding (text | base64). Authentication follows the vault's 401 challenge.
import { KeywayError } from '../../core/errors.js';
import type { Provider, ProviderRequest } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import { BaseProvider } from '../kit/base.js';
import { httpRequest } from '../kit/http.js';
import { codeForStatus } from '../kit/status.js';
import { backendMessage, isRecord, parseJsonBody, secretBytes } from '../kit/values.js';
import { parseChallenge, verifyChallengeResource, type Challenge } from './challenge.js';
import { AzureCredential, type AzureAuthMode } from './credentials.js';
import type { AzureKvConfig } from './index.js';

const VAULT_RE = /^[A-Za-z0-9-]{3,24}$/;
const SECRET_RE = /^[A-Za-z0-9-]{1,127}$/;
const VERSION_RE = /^[A-Za-z0-9]{32}$/;

interface Target {
  readonly vault: string;
  readonly secret: string;
  readonly version?: string;
}

export class AzureKvProvider extends BaseProvider implements Provider {
  readonly #config: AzureKvConfig;
  readonly #credential: AzureCredential;
  readonly #challenges = new Map<string, Challenge>();

  constructor(name: string, config: AzureKvConfig, env: Readonly<Record<string, string | undefined>>) {
    super('azure-kv', name, ['version', 'encoding']);
    this.#config = config;
    const what = this.where;
    const clientSecret = env.AZURE_CLIENT_SECRET;
    const federated = config.federated_token_file ?? env.AZURE_FEDERATED_TOKEN_FILE;
    let mode: AzureAuthMode;
    if (config.auth !== 'auto') mode = config.auth;
    else if (config.client_secret_file || clientSecret) mode = 'client_secret';
    else if (federated) mode = 'workload_identity';
    else mode = 'managed_identity';
    const clientId = config.client_id ?? env.AZURE_CLIENT_ID;
    const tenantId = config.tenant_id ?? env.AZURE_TENANT_ID;
    this.#credential = new AzureCredential({
      mode,
      authorityHost: config.authority_host ?? env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com',
      ...(tenantId ? { tenantId } : {}),
      ...(clientId ? { clientId } : {}),
      ...(clientSecret ? { clientSecret } : {}),
      ...(config.client_secret_file ? { clientSecretFile: config.client_secret_file } : {}),
      ...(federated ? { federatedTokenFile: federated } : {}),
      imdsEndpoint: config.imds_endpoint,
      ...(env.IDENTITY_ENDPOINT && env.IDENTITY_HEADER ? { identityEndpoint: env.IDENTITY_ENDPOINT, identityHeader: env.IDENTITY_HEADER } : {}),
      timeoutMs: config.timeout_ms,
      what,
    });
  }

  #target(req: ProviderRequest): Target {
    const where = `${this.where}: ${JSON.stringify(req.path.slice(0, 256))}`;
    const parts = req.path.split('/');
    let vault: string;
    if (this.#config.vault_url) {
      vault = this.#config.vault_url.replace(/\/+$/, '');
    } else {
      const name = parts.shift() ?? '';
      if (!VAULT_RE.test(name)) throw new KeywayError('invalid_argument', `${where}: expected VAULT/SECRET[/VERSION] (or configure vault_url); the vault name is invalid`);
      vault = `https://${name}.${this.#config.dns_suffix}`;
    }
    if (parts.length < 1 || parts.length > 2) throw new KeywayError('invalid_argument', `${where}: expected ${this.#config.vault_url ? '' : 'VAULT/'}SECRET[/VERSION]`);
    const [secret = '', inPath] = parts;
    if (!SECRET_RE.test(secret)) throw new KeywayError('invalid_argument', `${where}: invalid secret name (letters, digits and "-", up to 127)`);
    if (inPath !== undefined && req.options.version !== undefined) throw new KeywayError('invalid_argument', `${where}: the version is given both in the path and as ?version=`);
    const version = inPath ?? req.options.version;
    if (version !== undefined && !VERSION_RE.test(version)) throw new KeywayError('invalid_argument', `${where}: version must be a 32-character version id`);
    const enc = req.options.encoding;
    if (enc !== undefined && enc !== 'text' && enc !== 'base64') throw new KeywayError('invalid_argument', `${where}: option encoding must be "text" or "base64"`);
    return { vault, secret, ...(version !== undefined ? { version } : {}) };
  }

  /** GET with the challenge flow: the first request to a vault goes without a token to learn its tenant and scope. */
  async #get(t: Target, signal: AbortSignal): Promise<Record<string, unknown>> {
    const what = `${this.where}: secret ${t.secret}${t.version ? ` version ${t.version}` : ''}`;
    const url = `${t.vault}/secrets/${encodeURIComponent(t.secret)}${t.version ? `/${t.version}` : ''}?api-version=${encodeURIComponent(this.#config.api_version)}`;
    let tokensTried = 0;
    for (;;) {
      const challenge = this.#challenges.get(t.vault);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (challenge) {
        headers.authorization = `Bearer ${await this.#credential.token(challenge.scope, challenge.tenant, signal)}`;
        tokensTried++;
      }
      const res = await httpRequest({ method: 'GET', url, headers, signal, timeoutMs: this.#config.timeout_ms, what });
      if (res.status === 401) {
        const doc = parseJsonBody(res.body);
        // One retry with a fresh token covers revoked or clock-skewed tokens; a second 401 is final.
        if (tokensTried >= 2) throw this.#error(401, doc, what);
        const next = parseChallenge(res.header('www-authenticate'), what);
        if (this.#config.verify_challenge_resource) verifyChallengeResource(next, t.vault, what);
        if (challenge) this.#credential.invalidate();
        this.#challenges.set(t.vault, next);
        continue;
      }
      const doc = parseJsonBody(res.body);
      if (res.status === 200 && isRecord(doc)) return doc;
      throw this.#error(res.status, doc, what);
    }
  }

  #error(status: number, doc: unknown, what: string): KeywayError {
    const err = isRecord(doc) && isRecord(doc.error) ? doc.error : {};
    const code = typeof err.code === 'string' ? err.code : '';
    const inner = isRecord(err.innererror) && typeof err.innererror.code === 'string' ? err.innererror.code : '';
    const msg = backendMessage(err.message);
    const label = [code, inner].filter((s) => s.length > 0).join('/') || `HTTP ${status}`;
    let kc = codeForStatus(status);
    if (code === 'SecretNotFound' || code === 'NotFound') kc = 'not_found';
    else if (inner === 'SecretDisabled' || /disabled/i.test(msg)) kc = 'failed_precondition';
    else if (code === 'Forbidden') kc = 'permission_denied';
    else if (code === 'Unauthorized') kc = 'unauthenticated';
    else if (code === 'Throttled') kc = 'throttled';
    else if (code === 'BadParameter') kc = 'invalid_argument';
    if (status === 200) return new KeywayError('unavailable', `${what}: answer is not a JSON object`);
    return new KeywayError(kc, `${what}: ${label}${msg ? ` (${msg})` : ''}`);
  }

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const t = this.#target(req);
    const doc = await this.#get(t, req.signal);
    const value = doc.value;
    delete doc.value;
    if (typeof value !== 'string') throw new KeywayError('unavailable', `${this.where}: secret ${t.secret}: the answer has no value`);
    if (req.options.encoding === 'base64') return SecretValue.adopt(secretBytes(value, 'base64'));
    return SecretValue.adopt(secretBytes(value, 'utf8'));
  }

  /**
   * The version id from the secret bundle's `id`. Key Vault has no metadata-only read of the
   * current version, so this is one GET whose value is dropped at once.
   */
  async version(req: ProviderRequest): Promise<string> {
    const t = this.#target(req);
    const doc = await this.#get(t, req.signal);
    delete doc.value;
    const id = typeof doc.id === 'string' ? doc.id : '';
    const v = id.slice(id.lastIndexOf('/') + 1);
    if (!VERSION_RE.test(v)) throw new KeywayError('unavailable', `${this.where}: secret ${t.secret}: the answer has no version id`);
    return v;
  }
}
