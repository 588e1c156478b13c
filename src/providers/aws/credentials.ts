// The standard AWS credential chain, in the SDKs' order: environment variables (unless a profile
// was chosen explicitly), the shared credentials and config files, the ECS container endpoint, and
// EC2 instance metadata (IMDSv2). Temporary credentials are cached until five minutes before expiry.
import { readFileSync } from 'node:fs';
import { KeywayError } from '../../core/errors.js';
import { httpRequest } from '../kit/http.js';
import { isRecord, parseJsonBody } from '../kit/values.js';
import { profileSection } from './ini.js';
import { awsProfile, configFilePath, credentialsFilePath, readIni, type Env } from './settings.js';
import type { AwsCredentials } from './sigv4.js';

export interface CredentialChainOptions {
  /** Profile named in the provider config; when set, environment keys are not used. */
  readonly profile?: string;
  readonly env: Env;
  /** Timeout of each metadata request; metadata endpoints answer fast or not at all. */
  readonly metadataTimeoutMs?: number;
  readonly what: string;
}

const REFRESH_MARGIN_MS = 5 * 60_000;
const ECS_HOST = 'http://169.254.170.2';
const IMDS_HOST = 'http://169.254.169.254';

export class AwsCredentialChain {
  readonly #o: CredentialChainOptions;
  #cached: AwsCredentials | undefined;
  /** Which link supplied the cached credentials, for error messages. */
  #source = '';

  constructor(o: CredentialChainOptions) {
    this.#o = o;
  }

  get source(): string {
    return this.#source;
  }

  /** Forgets cached credentials (after the backend rejected them). */
  invalidate(): void {
    this.#cached = undefined;
  }

  async get(signal: AbortSignal): Promise<AwsCredentials> {
    const c = this.#cached;
    if (c && (c.expiresAt === undefined || c.expiresAt - REFRESH_MARGIN_MS > Date.now())) return c;
    const fresh = await this.#resolve(signal);
    this.#cached = fresh;
    return fresh;
  }

  async #resolve(signal: AbortSignal): Promise<AwsCredentials> {
    const env = this.#o.env;
    if (this.#o.profile === undefined && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      this.#source = 'environment';
      return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
    }
    const fromFiles = this.#fromFiles();
    if (fromFiles) return fromFiles;
    if (this.#o.profile !== undefined) {
      throw new KeywayError('unauthenticated', `${this.#o.what}: profile "${this.#o.profile}" has no aws_access_key_id/aws_secret_access_key in ${credentialsFilePath(env)} or ${configFilePath(env)}`);
    }
    if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return this.#fromContainer(signal);
    if (env.AWS_EC2_METADATA_DISABLED?.toLowerCase() !== 'true') {
      try {
        return await this.#fromImds(signal);
      } catch (e) {
        if (signal.aborted) throw e;
        throw new KeywayError('unauthenticated', `${this.#o.what}: no AWS credentials found (tried environment, ${credentialsFilePath(env)}, ${configFilePath(env)}, container and instance metadata)`, { cause: e });
      }
    }
    throw new KeywayError('unauthenticated', `${this.#o.what}: no AWS credentials found (tried environment, ${credentialsFilePath(env)}, ${configFilePath(env)}; instance metadata is disabled)`);
  }

  #fromFiles(): AwsCredentials | undefined {
    const env = this.#o.env;
    const profile = awsProfile(this.#o.profile, env);
    for (const [path, kind] of [[credentialsFilePath(env), 'credentials'], [configFilePath(env), 'config']] as const) {
      const sec = profileSection(readIni(path), profile, kind);
      if (!sec) continue;
      const id = sec.get('aws_access_key_id');
      const key = sec.get('aws_secret_access_key');
      if (id && key) {
        this.#source = `profile ${profile} in ${path}`;
        const token = sec.get('aws_session_token');
        return { accessKeyId: id, secretAccessKey: key, ...(token ? { sessionToken: token } : {}) };
      }
      for (const unsupported of ['role_arn', 'credential_process', 'sso_session', 'sso_start_url', 'web_identity_token_file']) {
        if (sec.has(unsupported)) throw new KeywayError('unsupported', `${this.#o.what}: profile "${profile}" in ${path} uses ${unsupported}, which keyway does not support (use static keys, or container/instance credentials)`);
      }
    }
    return undefined;
  }

  async #fromContainer(signal: AbortSignal): Promise<AwsCredentials> {
    const env = this.#o.env;
    const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? `${ECS_HOST}${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ?? ''}`;
    let auth = env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) {
      try {
        auth = readFileSync(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, 'utf8').trim();
      } catch (e) {
        throw new KeywayError('unauthenticated', `${this.#o.what}: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE ${env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE}`, { cause: e });
      }
    }
    const res = await httpRequest({ method: 'GET', url, headers: auth ? { authorization: auth } : {}, signal, timeoutMs: this.#o.metadataTimeoutMs ?? 2000, what: `${this.#o.what}: container credentials` });
    if (res.status !== 200) {
      res.body.fill(0);
      throw new KeywayError('unauthenticated', `${this.#o.what}: container credentials endpoint answered HTTP ${res.status}`);
    }
    this.#source = 'container credentials endpoint';
    return parseTemporary(parseJsonBody(res.body), `${this.#o.what}: container credentials`);
  }

  async #fromImds(signal: AbortSignal): Promise<AwsCredentials> {
    const env = this.#o.env;
    const base = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? IMDS_HOST).replace(/\/+$/, '');
    const timeoutMs = this.#o.metadataTimeoutMs ?? 1000;
    const what = `${this.#o.what}: instance metadata`;
    const tok = await httpRequest({ method: 'PUT', url: `${base}/latest/api/token`, headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }, signal, timeoutMs, what });
    const token = tok.body.toString('utf8');
    tok.body.fill(0);
    if (tok.status !== 200) throw new KeywayError('unauthenticated', `${what}: token request answered HTTP ${tok.status}`);
    const headers = { 'x-aws-ec2-metadata-token': token };
    const roles = await httpRequest({ method: 'GET', url: `${base}/latest/meta-data/iam/security-credentials/`, headers, signal, timeoutMs, what });
    const role = roles.body.toString('utf8').split('\n')[0]?.trim() ?? '';
    if (roles.status !== 200 || role.length === 0) throw new KeywayError('unauthenticated', `${what}: the instance has no IAM role (HTTP ${roles.status})`);
    const creds = await httpRequest({ method: 'GET', url: `${base}/latest/meta-data/iam/security-credentials/${encodeURIComponent(role)}`, headers, signal, timeoutMs, what });
    if (creds.status !== 200) {
      creds.body.fill(0);
      throw new KeywayError('unauthenticated', `${what}: role credentials answered HTTP ${creds.status}`);
    }
    this.#source = `instance role ${role}`;
    return parseTemporary(parseJsonBody(creds.body), what);
  }
}

function parseTemporary(doc: unknown, what: string): AwsCredentials {
  if (!isRecord(doc) || typeof doc.AccessKeyId !== 'string' || typeof doc.SecretAccessKey !== 'string') {
    throw new KeywayError('unauthenticated', `${what}: the answer has no AccessKeyId/SecretAccessKey`);
  }
  const exp = typeof doc.Expiration === 'string' ? Date.parse(doc.Expiration) : NaN;
  return {
    accessKeyId: doc.AccessKeyId,
    secretAccessKey: doc.SecretAccessKey,
    ...(typeof doc.Token === 'string' ? { sessionToken: doc.Token } : {}),
    ...(Number.isFinite(exp) ? { expiresAt: exp } : {}),
  };
}
