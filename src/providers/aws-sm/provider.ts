// `aws-sm`: AWS Secrets Manager over its documented JSON API (SigV4-signed fetch, no SDK).
// Path: a secret name or ARN. Options: version_id, version_stage, region.
import { KeywayError } from '../../core/errors.js';
import type { ListRequest, Provider, ProviderRequest } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import { isRecord, secretBytes } from '../kit/values.js';
import { BaseProvider } from '../kit/base.js';
import type { AwsCommonConfig } from '../aws/common-config.js';
import { errorTypeName } from '../aws/json-client.js';
import { AwsService } from '../aws/service.js';
import type { Env } from '../aws/settings.js';
import { awsErrorCode } from '../aws/error-codes.js';

/** BatchGetSecretValue takes at most 20 ids per call. */
const BATCH_MAX = 20;
const VERSION_ID_RE = /^[A-Za-z0-9-]{32,64}$/;
const STAGE_RE = /^[A-Za-z0-9_+=,.@-]{1,256}$/;

export class AwsSmProvider extends BaseProvider implements Provider {
  readonly #aws: AwsService;

  constructor(name: string, config: AwsCommonConfig, env: Env) {
    super('aws-sm', name, ['version_id', 'version_stage', 'region']);
    this.#aws = new AwsService({ type: 'aws-sm', envKey: 'SECRETS_MANAGER', service: 'secretsmanager', targetPrefix: 'secretsmanager' }, name, config, env);
  }

  #where(req: ProviderRequest): string {
    return `${this.where}: secret ${JSON.stringify(req.path.slice(0, 256))}`;
  }

  #versionInput(req: ProviderRequest): Record<string, string> {
    const input: Record<string, string> = {};
    const id = req.options.version_id;
    const stage = req.options.version_stage;
    if (id !== undefined) {
      if (!VERSION_ID_RE.test(id)) throw new KeywayError('invalid_argument', `${this.#where(req)}: option version_id is not a version id (32-64 letters, digits, "-")`);
      input.VersionId = id;
    }
    if (stage !== undefined) {
      if (!STAGE_RE.test(stage)) throw new KeywayError('invalid_argument', `${this.#where(req)}: option version_stage is not a valid staging label`);
      input.VersionStage = stage;
    }
    return input;
  }

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const where = this.#where(req);
    const out = await this.#aws.call(req.options.region, 'GetSecretValue', { SecretId: req.path, ...this.#versionInput(req) }, req.signal, where);
    return decodeSecret(out, where);
  }

  /** The version id that currently carries the requested stage (AWSCURRENT by default), from DescribeSecret: no value is read. */
  async version(req: ProviderRequest): Promise<string> {
    const where = this.#where(req);
    const pin = this.#versionInput(req);
    const out = await this.#aws.call(req.options.region, 'DescribeSecret', { SecretId: req.path }, req.signal, where);
    const stages = isRecord(out.VersionIdsToStages) ? out.VersionIdsToStages : {};
    if (pin.VersionId !== undefined) {
      if (!Object.hasOwn(stages, pin.VersionId)) throw new KeywayError('not_found', `${where}: no version with the requested version_id`);
      return pin.VersionId;
    }
    const stage = pin.VersionStage ?? 'AWSCURRENT';
    for (const [id, labels] of Object.entries(stages)) if (Array.isArray(labels) && labels.includes(stage)) return id;
    throw new KeywayError('not_found', `${where}: no version has staging label ${JSON.stringify(stage)}`);
  }

  /**
   * Lookups without version options go through BatchGetSecretValue, 20 ids per call; the rest, and
   * everything when the caller lacks secretsmanager:BatchGetSecretValue, through GetSecretValue.
   */
  async lookupMany(reqs: readonly ProviderRequest[], signal: AbortSignal): Promise<(SecretValue | KeywayError)[]> {
    const results: (SecretValue | KeywayError | undefined)[] = new Array<SecretValue | KeywayError | undefined>(reqs.length).fill(undefined);
    const byRegion = new Map<string, number[]>();
    reqs.forEach((r, i) => {
      if (r.options.version_id !== undefined || r.options.version_stage !== undefined) return;
      const key = r.options.region ?? '';
      byRegion.set(key, [...(byRegion.get(key) ?? []), i]);
    });
    for (const [region, indexes] of byRegion) {
      for (let start = 0; start < indexes.length; start += BATCH_MAX) {
        const chunk = indexes.slice(start, start + BATCH_MAX);
        try {
          await this.#batch(region === '' ? undefined : region, chunk, reqs, results, signal);
        } catch (e) {
          if (signal.aborted) throw e;
          if (e instanceof KeywayError && e.code !== 'permission_denied') for (const i of chunk) results[i] = e;
          // permission_denied: maybe only the batch action is denied; the single lookups below decide.
        }
      }
    }
    await Promise.all(
      reqs.map(async (r, i) => {
        if (results[i] !== undefined) return;
        try {
          results[i] = await this.lookup({ ...r, signal });
        } catch (e) {
          if (signal.aborted) throw e;
          results[i] = e instanceof KeywayError ? e : new KeywayError('internal', `${this.#where(r)}: unexpected error`, { cause: e });
        }
      }),
    );
    return results.map((r) => r ?? new KeywayError('internal', `${this.where}: batch result missing`));
  }

  async #batch(region: string | undefined, chunk: number[], reqs: readonly ProviderRequest[], results: (SecretValue | KeywayError | undefined)[], signal: AbortSignal): Promise<void> {
    const ids = chunk.map((i) => reqs[i]?.path ?? '');
    const values: Record<string, unknown>[] = [];
    const errors: Record<string, unknown>[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.#aws.call(region, 'BatchGetSecretValue', { SecretIdList: ids, ...(nextToken ? { NextToken: nextToken } : {}) }, signal, `${this.where}: ${ids.length} secrets`);
      if (Array.isArray(out.SecretValues)) values.push(...out.SecretValues.filter(isRecord));
      if (Array.isArray(out.Errors)) errors.push(...out.Errors.filter(isRecord));
      nextToken = typeof out.NextToken === 'string' && out.NextToken.length > 0 ? out.NextToken : undefined;
    } while (nextToken);
    for (const i of chunk) {
      const req = reqs[i];
      if (!req) continue;
      const where = this.#where(req);
      const v = values.find((s) => s.ARN === req.path || s.Name === req.path);
      if (v) {
        results[i] = decodeSecret(v, where);
        continue;
      }
      const err = errors.find((s) => s.SecretId === req.path);
      if (err) {
        const type = errorTypeName(typeof err.ErrorCode === 'string' ? err.ErrorCode : '');
        results[i] = new KeywayError(awsErrorCode(type) ?? 'internal', `${where}: BatchGetSecretValue failed: ${type || 'unknown error'}`);
      }
      // Neither (a partial ARN, say): left undefined for a single lookup.
    }
    // Values we could not attribute to a request must not linger.
    for (const v of values) if (!chunk.some((i) => reqs[i]?.path === v.ARN || reqs[i]?.path === v.Name)) wipeDoc(v);
  }

  async list(req: ListRequest): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const input: Record<string, unknown> = { MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) };
      if (req.prefix) input.Filters = [{ Key: 'name', Values: [req.prefix] }];
      const out = await this.#aws.call(undefined, 'ListSecrets', input, req.signal, `${this.where}: list`);
      if (Array.isArray(out.SecretList)) for (const s of out.SecretList) if (isRecord(s) && typeof s.Name === 'string') names.push(s.Name);
      nextToken = typeof out.NextToken === 'string' && out.NextToken.length > 0 ? out.NextToken : undefined;
    } while (nextToken);
    return names.sort();
  }
}

function wipeDoc(doc: Record<string, unknown>): void {
  delete doc.SecretString;
  delete doc.SecretBinary;
}

/** SecretString is text; SecretBinary is base64 of arbitrary bytes. */
export function decodeSecret(out: Record<string, unknown>, where: string): SecretValue {
  try {
    if (typeof out.SecretString === 'string') return SecretValue.adopt(secretBytes(out.SecretString, 'utf8'));
    if (typeof out.SecretBinary === 'string') return SecretValue.adopt(secretBytes(out.SecretBinary, 'base64'));
    throw new KeywayError('not_found', `${where}: the version has neither SecretString nor SecretBinary`);
  } finally {
    wipeDoc(out);
  }
}
