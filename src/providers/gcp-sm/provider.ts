// `gcp-sm`: Google Secret Manager over its documented REST API (v1, `:access`), no SDK.
// Paths: `projects/P/secrets/S[/versions/V]`, `P/S`, or `S` with the default project.
// Options: version (a number, `latest` or an alias). Payloads are checked against dataCrc32c.
import { KeywayError, type ErrorCode } from '../../core/errors.js';
import type { Provider, ProviderRequest } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import { BaseProvider } from '../kit/base.js';
import { httpRequest } from '../kit/http.js';
import { codeForStatus } from '../kit/status.js';
import { backendMessage, isRecord, parseJsonBody, secretBytes } from '../kit/values.js';
import { GcpTokenSource, type GcpAuthMode } from './auth.js';
import { crc32c } from './crc32c.js';
import type { GcpSmConfig } from './index.js';

const PROJECT_RE = /^[A-Za-z0-9.:-]{1,100}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{1,255}$/;
const VERSION_RE = /^(latest|[1-9][0-9]{0,18}|[A-Za-z][A-Za-z0-9_-]{0,62})$/;

const STATUS_CODES: Readonly<Record<string, ErrorCode>> = {
  NOT_FOUND: 'not_found',
  PERMISSION_DENIED: 'permission_denied',
  UNAUTHENTICATED: 'unauthenticated',
  FAILED_PRECONDITION: 'failed_precondition',
  RESOURCE_EXHAUSTED: 'throttled',
  UNAVAILABLE: 'unavailable',
  INTERNAL: 'unavailable',
  DEADLINE_EXCEEDED: 'timeout',
  INVALID_ARGUMENT: 'invalid_argument',
  CANCELLED: 'cancelled',
};

interface VersionName {
  readonly project?: string;
  readonly secret: string;
  readonly version: string;
}

export class GcpSmProvider extends BaseProvider implements Provider {
  readonly #config: GcpSmConfig;
  readonly #tokens: GcpTokenSource;
  #defaultProject: string | undefined;

  constructor(name: string, config: GcpSmConfig, env: Readonly<Record<string, string | undefined>>) {
    super('gcp-sm', name, ['version']);
    this.#config = config;
    const credentialsFile = config.credentials_file ?? env.GOOGLE_APPLICATION_CREDENTIALS;
    let mode: GcpAuthMode;
    if (config.auth === 'auto') mode = config.token_file ? 'token_file' : credentialsFile ? 'service_account' : 'metadata';
    else mode = config.auth;
    if (mode === 'token_file' && !config.token_file) throw new KeywayError('failed_precondition', `${this.where}: auth = "token_file" needs token_file`);
    if (mode === 'service_account' && !credentialsFile) throw new KeywayError('failed_precondition', `${this.where}: auth = "service_account" needs credentials_file or GOOGLE_APPLICATION_CREDENTIALS`);
    const metadataBase = (config.metadata_endpoint ?? (env.GCE_METADATA_HOST ? `http://${env.GCE_METADATA_HOST}` : 'http://metadata.google.internal')).replace(/\/+$/, '');
    this.#tokens = new GcpTokenSource({
      mode,
      ...(config.token_file ? { tokenFile: config.token_file } : {}),
      ...(credentialsFile ? { credentialsFile } : {}),
      metadataBase,
      timeoutMs: config.timeout_ms,
      what: this.where,
    });
  }

  #parse(req: ProviderRequest): VersionName {
    const where = `${this.where}: ${JSON.stringify(req.path.slice(0, 256))}`;
    const parts = req.path.split('/');
    let project: string | undefined;
    let secret: string | undefined;
    let inPath: string | undefined;
    if (parts[0] === 'projects') {
      if (parts.length !== 4 && !(parts.length === 6 && parts[4] === 'versions')) throw new KeywayError('invalid_argument', `${where}: expected projects/PROJECT/secrets/SECRET[/versions/VERSION]`);
      if (parts[2] !== 'secrets') throw new KeywayError('invalid_argument', `${where}: expected projects/PROJECT/secrets/SECRET (regional locations/ paths are not supported)`);
      [, project, , secret, , inPath] = parts;
    } else if (parts.length === 2) {
      [project, secret] = parts;
    } else if (parts.length === 1) {
      secret = parts[0];
    } else {
      throw new KeywayError('invalid_argument', `${where}: expected SECRET, PROJECT/SECRET or projects/PROJECT/secrets/SECRET[/versions/VERSION]`);
    }
    if (project !== undefined && !PROJECT_RE.test(project)) throw new KeywayError('invalid_argument', `${where}: invalid project id`);
    if (secret === undefined || !SECRET_RE.test(secret)) throw new KeywayError('invalid_argument', `${where}: invalid secret id (letters, digits, "_" and "-", up to 255)`);
    if (inPath !== undefined && req.options.version !== undefined) throw new KeywayError('invalid_argument', `${where}: the version is given both in the path and as ?version=`);
    const version = inPath ?? req.options.version ?? 'latest';
    if (!VERSION_RE.test(version)) throw new KeywayError('invalid_argument', `${where}: version must be a number, "latest" or an alias`);
    return { ...(project !== undefined ? { project } : {}), secret, version };
  }

  async #resource(v: VersionName, signal: AbortSignal): Promise<string> {
    let project = v.project ?? this.#config.project ?? this.#defaultProject;
    if (project === undefined) {
      project = await this.#tokens.defaultProject(signal);
      if (project === undefined) throw new KeywayError('failed_precondition', `${this.where}: secret "${v.secret}" names no project and none is configured (set project, or use PROJECT/SECRET)`);
      this.#defaultProject = project;
    }
    return `projects/${project}/secrets/${v.secret}/versions/${v.version}`;
  }

  async #get(resource: string, suffix: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    const what = `${this.where}: ${resource}`;
    const url = `${this.#config.endpoint.replace(/\/+$/, '')}/v1/${resource}${suffix}`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.#tokens.token(signal);
      const res = await httpRequest({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal, timeoutMs: this.#config.timeout_ms, what });
      const doc = parseJsonBody(res.body);
      if (res.status === 200 && isRecord(doc)) return doc;
      // A rejected cached token (revoked, clock skew) gets one fresh token before giving up.
      if (res.status === 401 && attempt === 0) {
        this.#tokens.invalidate();
        continue;
      }
      const err = isRecord(doc) && isRecord(doc.error) ? doc.error : {};
      const status = typeof err.status === 'string' ? err.status : '';
      const code = (Object.hasOwn(STATUS_CODES, status) ? STATUS_CODES[status] : undefined) ?? codeForStatus(res.status);
      const msg = backendMessage(err.message);
      throw new KeywayError(res.status === 200 ? 'unavailable' : code, `${what}: ${res.status === 200 ? 'answer is not a JSON object' : `${status || `HTTP ${res.status}`}${msg ? ` (${msg})` : ''}`}`);
    }
  }

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const resource = await this.#resource(this.#parse(req), req.signal);
    const doc = await this.#get(resource, ':access', req.signal);
    const payload = isRecord(doc.payload) ? doc.payload : undefined;
    const data = payload?.data;
    if (payload) delete payload.data;
    if (typeof data !== 'string' && data !== undefined) throw new KeywayError('unavailable', `${this.where}: ${resource}: payload.data is not base64 text`);
    const bytes = secretBytes(data ?? '', 'base64');
    const expected = payload?.dataCrc32c;
    if (expected === undefined) {
      if (this.#config.require_checksum) {
        bytes.fill(0);
        throw new KeywayError('checksum_mismatch', `${this.where}: ${resource}: the payload has no dataCrc32c and require_checksum is set`);
      }
    } else if (String(crc32c(bytes)) !== String(expected)) {
      bytes.fill(0);
      throw new KeywayError('checksum_mismatch', `${this.where}: ${resource}: payload CRC32C does not match dataCrc32c (corrupted in transit or storage)`);
    }
    return SecretValue.adopt(bytes);
  }

  /** The resolved version number (for `latest`, the newest one) from the version's metadata: no payload is read. */
  async version(req: ProviderRequest): Promise<string> {
    const resource = await this.#resource(this.#parse(req), req.signal);
    const doc = await this.#get(resource, '', req.signal);
    const name = typeof doc.name === 'string' ? doc.name : '';
    const number = name.slice(name.lastIndexOf('/') + 1);
    if (!/^\d+$/.test(number)) throw new KeywayError('unavailable', `${this.where}: ${resource}: the version metadata has no version number`);
    if (doc.state !== undefined && doc.state !== 'ENABLED') throw new KeywayError('failed_precondition', `${this.where}: ${resource}: version ${number} is ${String(doc.state)}`);
    return number;
  }
}
