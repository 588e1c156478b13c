// An emulator of the AWS JSON APIs of Secrets Manager and SSM Parameter Store, from the public API
// reference: `POST /` with `Content-Type: application/x-amz-json-1.1` and `X-Amz-Target`, SigV4
// verified per request, errors as `{"__type","message"}` plus the `x-amzn-ErrorType` header.
import { randomUUID } from 'node:crypto';
import { HttpEmulator, jsonBody, type EmulatorRequest, type EmulatorResponse } from '../http.js';
import { verifySigV4, type AwsKey } from './sigv4-verify.js';

export const ACCOUNT = '123456789012';

export interface SmVersion {
  readonly id: string;
  readonly string?: string;
  readonly binary?: Buffer;
  stages: string[];
  readonly created: number;
}

export interface SmSecret {
  readonly name: string;
  readonly arn: string;
  readonly versions: SmVersion[];
  deleted?: boolean;
  /** Reading it fails like a secret whose KMS key the caller may not use. */
  kmsDenied?: boolean;
  /** The caller has no IAM permission on it. */
  denied?: boolean;
}

export interface SsmParameter {
  readonly name: string;
  readonly type: 'String' | 'StringList' | 'SecureString';
  readonly versions: { readonly version: number; readonly value: string; labels: string[]; readonly modified: number }[];
  denied?: boolean;
}

export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export class AwsEmulator extends HttpEmulator {
  readonly keys = new Map<string, AwsKey>();
  readonly secrets = new Map<string, SmSecret>();
  readonly parameters = new Map<string, SsmParameter>();
  /** Operations the caller's IAM policy denies (`secretsmanager.BatchGetSecretValue` ...). */
  readonly deniedActions = new Set<string>();
  /** When set, every request fails with it (outage, throttling). */
  failure: AwsError | undefined;
  /** Request headers a proxy in front of the service strips (e.g. `authorization`). */
  readonly dropHeaders = new Set<string>();
  /** Page size of BatchGetSecretValue answers, to exercise NextToken. */
  batchPageSize = 20;
  readonly calls: string[] = [];

  constructor(readonly region = 'us-east-1') {
    super();
  }

  addKey(accessKeyId: string, secret: string, sessionToken?: string): AwsKey {
    const k: AwsKey = { secret, ...(sessionToken !== undefined ? { sessionToken } : {}) };
    this.keys.set(accessKeyId, k);
    return k;
  }

  /** Adds a version that becomes AWSCURRENT; the previous current one becomes AWSPREVIOUS. */
  putSecret(name: string, value: string | Buffer, extraStages: string[] = []): string {
    let s = this.secrets.get(name);
    if (!s) {
      s = { name, arn: `arn:aws:secretsmanager:${this.region}:${ACCOUNT}:secret:${name}-${randomUUID().slice(0, 6)}`, versions: [] };
      this.secrets.set(name, s);
    }
    for (const v of s.versions) v.stages = v.stages.filter((st) => st !== 'AWSPREVIOUS' && !extraStages.includes(st));
    for (const v of s.versions) if (v.stages.includes('AWSCURRENT')) v.stages = [...v.stages.filter((st) => st !== 'AWSCURRENT'), 'AWSPREVIOUS'];
    const id = randomUUID();
    s.versions.push({ id, ...(typeof value === 'string' ? { string: value } : { binary: Buffer.from(value) }), stages: ['AWSCURRENT', ...extraStages], created: Date.now() / 1000 });
    return id;
  }

  putParameter(name: string, value: string, type: SsmParameter['type'] = 'SecureString'): number {
    let p = this.parameters.get(name);
    if (!p) {
      p = { name, type, versions: [] };
      this.parameters.set(name, p);
    }
    const version = p.versions.length + 1;
    p.versions.push({ version, value, labels: [], modified: Date.now() / 1000 });
    return version;
  }

  labelParameter(name: string, version: number, label: string): void {
    const p = this.parameters.get(name);
    if (!p) throw new Error(`no parameter ${name}`);
    for (const v of p.versions) v.labels = v.labels.filter((l) => l !== label);
    p.versions.find((v) => v.version === version)?.labels.push(label);
  }

  protected handle(req: EmulatorRequest): EmulatorResponse {
    try {
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: this.#dispatch(req) };
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      return { status: e.status, headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': `${e.type}:http://internal.amazon.com/coral/com.amazonaws/` }, body: { __type: e.type, message: e.message } };
    }
  }

  #dispatch(req: EmulatorRequest): unknown {
    if (req.method !== 'POST' || req.url.pathname !== '/') throw new AwsError('UnknownOperationException', 'Unknown operation', 404);
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.indexOf('.');
    const prefix = target.slice(0, dot);
    const op = target.slice(dot + 1);
    const service = prefix === 'secretsmanager' ? 'secretsmanager' : prefix === 'AmazonSSM' ? 'ssm' : undefined;
    if (!service || dot < 0) throw new AwsError('UnknownOperationException', `Unknown target ${target}`);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1') throw new AwsError('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !this.dropHeaders.has(k)));
    const auth = verifySigV4({ ...req, headers }, this.keys, this.region, service);
    // Statuses as in the AWS common-errors reference: IncompleteSignature 400, MissingAuthenticationToken 403.
    if ('type' in auth) throw new AwsError(auth.type, auth.message, auth.type === 'ExpiredTokenException' || auth.type === 'IncompleteSignatureException' ? 400 : 403);
    this.calls.push(target);
    if (this.failure) throw this.failure;
    if (this.deniedActions.has(target)) throw new AwsError('AccessDeniedException', `User: arn:aws:iam::${ACCOUNT}:user/test is not authorized to perform: ${service}:${op} because no identity-based policy allows the ${service}:${op} action`);
    const input = jsonBody(req);
    if (input === null || typeof input !== 'object') throw new AwsError('SerializationException', 'Start of structure or map found where not expected.');
    const body = input as Record<string, unknown>;
    if (service === 'secretsmanager') {
      switch (op) {
        case 'GetSecretValue':
          return this.#getSecretValue(body);
        case 'DescribeSecret':
          return this.#describeSecret(body);
        case 'BatchGetSecretValue':
          return this.#batchGetSecretValue(body);
        case 'ListSecrets':
          return this.#listSecrets(body);
        default:
          throw new AwsError('UnknownOperationException', `Unknown operation ${op}`);
      }
    }
    switch (op) {
      case 'GetParameter':
        return this.#getParameter(body);
      case 'GetParameters':
        return this.#getParameters(body);
      case 'DescribeParameters':
        return this.#describeParameters(body);
      default:
        throw new AwsError('UnknownOperationException', `Unknown operation ${op}`);
    }
  }

  // ---- Secrets Manager ----

  #findSecret(id: unknown, action: string): SmSecret {
    if (typeof id !== 'string' || id.length === 0 || id.length > 2048) throw new AwsError('InvalidParameterException', 'Invalid SecretId.');
    const s = [...this.secrets.values()].find((x) => x.name === id || x.arn === id);
    if (!s) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    if (s.denied) throw new AwsError('AccessDeniedException', `User: arn:aws:iam::${ACCOUNT}:user/test is not authorized to perform: secretsmanager:${action} on resource: ${id} because no identity-based policy allows the secretsmanager:${action} action`);
    return s;
  }

  #secretValue(body: Record<string, unknown>): Record<string, unknown> {
    const s = this.#findSecret(body.SecretId, 'GetSecretValue');
    if (s.deleted) throw new AwsError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
    const vid = body.VersionId;
    const stage = body.VersionStage;
    let v: SmVersion | undefined;
    if (typeof vid === 'string') {
      v = s.versions.find((x) => x.id === vid);
      if (!v || (typeof stage === 'string' && !v.stages.includes(stage))) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${vid}`);
    } else {
      const want = typeof stage === 'string' ? stage : 'AWSCURRENT';
      v = s.versions.find((x) => x.stages.includes(want));
      if (!v) throw new AwsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${want}`);
    }
    if (s.kmsDenied) throw new AwsError('DecryptionFailure', "Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
    return {
      ARN: s.arn,
      Name: s.name,
      VersionId: v.id,
      ...(v.string !== undefined ? { SecretString: v.string } : { SecretBinary: (v.binary ?? Buffer.alloc(0)).toString('base64') }),
      VersionStages: v.stages,
      CreatedDate: v.created,
    };
  }

  #getSecretValue(body: Record<string, unknown>): unknown {
    return this.#secretValue(body);
  }

  #describeSecret(body: Record<string, unknown>): unknown {
    const s = this.#findSecret(body.SecretId, 'DescribeSecret');
    return {
      ARN: s.arn,
      Name: s.name,
      VersionIdsToStages: Object.fromEntries(s.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages])),
      ...(s.deleted ? { DeletedDate: Date.now() / 1000 } : {}),
    };
  }

  #batchGetSecretValue(body: Record<string, unknown>): unknown {
    const ids = body.SecretIdList;
    if (!Array.isArray(ids) || ids.length === 0) throw new AwsError('InvalidParameterException', 'Either SecretIdList or Filters must be provided.');
    if (ids.length > 20) throw new AwsError('InvalidParameterException', 'SecretIdList must contain at most 20 ids.');
    const start = typeof body.NextToken === 'string' ? Number(body.NextToken) : 0;
    const page = ids.slice(start, start + this.batchPageSize);
    const SecretValues: unknown[] = [];
    const Errors: unknown[] = [];
    for (const id of page) {
      try {
        SecretValues.push(this.#secretValue({ SecretId: id }));
      } catch (e) {
        if (!(e instanceof AwsError)) throw e;
        Errors.push({ SecretId: id, ErrorCode: e.type, Message: e.message });
      }
    }
    const next = start + page.length;
    return { SecretValues, Errors, ...(next < ids.length ? { NextToken: String(next) } : {}) };
  }

  #listSecrets(body: Record<string, unknown>): unknown {
    const max = typeof body.MaxResults === 'number' ? body.MaxResults : 100;
    if (max < 1 || max > 100) throw new AwsError('InvalidParameterException', 'MaxResults must be between 1 and 100.');
    let all = [...this.secrets.values()].filter((s) => !s.deleted).sort((a, b) => a.name.localeCompare(b.name));
    const filters = Array.isArray(body.Filters) ? (body.Filters as { Key?: string; Values?: string[] }[]) : [];
    for (const f of filters) if (f.Key === 'name') all = all.filter((s) => (f.Values ?? []).some((p) => s.name.startsWith(p)));
    const start = typeof body.NextToken === 'string' ? Number(body.NextToken) : 0;
    // Pages of at most 2 so that clients must follow NextToken.
    const page = all.slice(start, start + Math.min(max, 2));
    const next = start + page.length;
    return { SecretList: page.map((s) => ({ ARN: s.arn, Name: s.name })), ...(next < all.length ? { NextToken: String(next) } : {}) };
  }

  // ---- SSM Parameter Store ----

  #parameter(raw: unknown, withDecryption: boolean): Record<string, unknown> {
    if (typeof raw !== 'string' || raw.length === 0) throw new AwsError('ValidationException', "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1");
    const colon = raw.lastIndexOf(':');
    const name = colon > 0 ? raw.slice(0, colon) : raw;
    const selector = colon > 0 ? raw.slice(colon + 1) : undefined;
    const p = this.parameters.get(name);
    if (!p) throw new AwsError('ParameterNotFound', '');
    if (p.denied) throw new AwsError('AccessDeniedException', `User: arn:aws:iam::${ACCOUNT}:user/test is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:${this.region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`);
    let v = p.versions[p.versions.length - 1];
    if (selector !== undefined) {
      v = /^\d+$/.test(selector) ? p.versions.find((x) => x.version === Number(selector)) : p.versions.find((x) => x.labels.includes(selector));
      if (!v) throw new AwsError('ParameterVersionNotFound', `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`);
    }
    if (!v) throw new AwsError('ParameterNotFound', '');
    const value = p.type === 'SecureString' && !withDecryption ? Buffer.from(`kms-ciphertext:${v.version}`).toString('base64') : v.value;
    return {
      Name: name,
      Type: p.type,
      Value: value,
      Version: v.version,
      ...(selector !== undefined ? { Selector: `:${selector}` } : {}),
      LastModifiedDate: v.modified,
      ARN: `arn:aws:ssm:${this.region}:${ACCOUNT}:parameter${name.startsWith('/') ? '' : '/'}${name}`,
      DataType: 'text',
    };
  }

  #getParameter(body: Record<string, unknown>): unknown {
    return { Parameter: this.#parameter(body.Name, body.WithDecryption === true) };
  }

  #getParameters(body: Record<string, unknown>): unknown {
    const names = body.Names;
    if (!Array.isArray(names) || names.length === 0 || names.length > 10) throw new AwsError('ValidationException', "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length less than or equal to 10");
    const Parameters: unknown[] = [];
    const InvalidParameters: string[] = [];
    for (const n of names) {
      try {
        Parameters.push(this.#parameter(n, body.WithDecryption === true));
      } catch (e) {
        if (e instanceof AwsError && (e.type === 'ParameterNotFound' || e.type === 'ParameterVersionNotFound')) InvalidParameters.push(String(n));
        else throw e;
      }
    }
    return { Parameters, InvalidParameters };
  }

  #describeParameters(body: Record<string, unknown>): unknown {
    const filters = Array.isArray(body.ParameterFilters) ? (body.ParameterFilters as { Key?: string; Option?: string; Values?: string[] }[]) : [];
    let all = [...this.parameters.values()];
    for (const f of filters) {
      if (f.Key !== 'Name') throw new AwsError('InvalidFilterKey', `The filter key ${String(f.Key)} is not supported by this emulator.`);
      const values = f.Values ?? [];
      all = all.filter((p) => (f.Option === 'BeginsWith' ? values.some((v) => p.name.startsWith(v)) : values.includes(p.name)));
    }
    return {
      Parameters: all.map((p) => {
        const last = p.versions[p.versions.length - 1];
        return { Name: p.name, Type: p.type, Version: last?.version ?? 0, LastModifiedDate: last?.modified ?? 0, DataType: 'text' };
      }),
    };
  }
}
