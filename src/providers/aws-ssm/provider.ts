// `aws-ssm`: AWS Systems Manager Parameter Store over its documented JSON API (SigV4-signed fetch).
// Path: a parameter name (`/app/db/password`; `app/db/password` gets the leading "/").
// Options: version, label, region, encoding (text | base64, for binary values stored as base64).
import { KeywayError } from '../../core/errors.js';
import type { Provider, ProviderRequest } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import { isRecord, secretBytes } from '../kit/values.js';
import { BaseProvider } from '../kit/base.js';
import { AwsService } from '../aws/service.js';
import type { Env } from '../aws/settings.js';
import type { AwsSsmConfig } from './index.js';

const NAME_RE = /^[A-Za-z0-9_./-]{1,2048}$/;
const LABEL_RE = /^[A-Za-z0-9_.-]{1,100}$/;
/** GetParameters takes at most 10 names per call. */
const BATCH_MAX = 10;

export class AwsSsmProvider extends BaseProvider implements Provider {
  readonly #withDecryption: boolean;
  readonly #aws: AwsService;

  constructor(name: string, config: AwsSsmConfig, env: Env) {
    super('aws-ssm', name, ['version', 'label', 'region', 'encoding']);
    this.#withDecryption = config.with_decryption;
    this.#aws = new AwsService({ type: 'aws-ssm', envKey: 'SSM', service: 'ssm', targetPrefix: 'AmazonSSM' }, name, config, env);
  }

  #where(req: ProviderRequest): string {
    return `${this.where}: parameter ${JSON.stringify(req.path.slice(0, 256))}`;
  }

  /** The parameter name with its `:version` or `:label` selector. */
  #selector(req: ProviderRequest): { name: string; selector?: string } {
    const where = this.#where(req);
    const name = req.path.includes('/') && !req.path.startsWith('/') ? `/${req.path}` : req.path;
    if (!NAME_RE.test(name)) throw new KeywayError('invalid_argument', `${where}: not a parameter name (letters, digits and _ . - /; select versions with ?version= or ?label=)`);
    const { version, label, encoding } = req.options;
    if (encoding !== undefined && encoding !== 'text' && encoding !== 'base64') throw new KeywayError('invalid_argument', `${where}: option encoding must be "text" or "base64"`);
    if (version !== undefined && label !== undefined) throw new KeywayError('invalid_argument', `${where}: options version and label exclude each other`);
    if (version !== undefined) {
      if (!/^[1-9][0-9]{0,9}$/.test(version)) throw new KeywayError('invalid_argument', `${where}: option version must be a positive integer`);
      return { name, selector: version };
    }
    if (label !== undefined) {
      if (!LABEL_RE.test(label) || /^\d/.test(label) || /^(aws|ssm)/i.test(label)) throw new KeywayError('invalid_argument', `${where}: option label is not a valid parameter label`);
      return { name, selector: label };
    }
    return { name };
  }

  #decode(param: Record<string, unknown>, req: ProviderRequest): SecretValue {
    const value = param.Value;
    delete param.Value;
    if (typeof value !== 'string') throw new KeywayError('unavailable', `${this.#where(req)}: the answer has no Value`);
    if (req.options.encoding === 'base64') {
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(value)) throw new KeywayError('invalid_argument', `${this.#where(req)}: encoding=base64 but the value is not base64`);
      return SecretValue.adopt(secretBytes(value, 'base64'));
    }
    return SecretValue.adopt(secretBytes(value, 'utf8'));
  }

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const { name, selector } = this.#selector(req);
    const out = await this.#aws.call(req.options.region, 'GetParameter', { Name: selector ? `${name}:${selector}` : name, WithDecryption: this.#withDecryption }, req.signal, this.#where(req));
    if (!isRecord(out.Parameter)) throw new KeywayError('unavailable', `${this.#where(req)}: the answer has no Parameter`);
    return this.#decode(out.Parameter, req);
  }

  /**
   * The parameter version: pinned versions are returned as is; labels are resolved with an
   * undecrypted GetParameter; the latest version comes from DescribeParameters (no value at all).
   */
  async version(req: ProviderRequest): Promise<string> {
    const { name, selector } = this.#selector(req);
    const where = this.#where(req);
    if (req.options.version !== undefined) return req.options.version;
    if (selector !== undefined) {
      const out = await this.#aws.call(req.options.region, 'GetParameter', { Name: `${name}:${selector}`, WithDecryption: false }, req.signal, where);
      const p = isRecord(out.Parameter) ? out.Parameter : {};
      delete p.Value;
      if (typeof p.Version !== 'number') throw new KeywayError('unavailable', `${where}: the answer has no Version`);
      return String(p.Version);
    }
    const out = await this.#aws.call(req.options.region, 'DescribeParameters', { ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [name] }] }, req.signal, where);
    const p = Array.isArray(out.Parameters) ? out.Parameters.find((x) => isRecord(x) && x.Name === name) : undefined;
    if (!isRecord(p) || typeof p.Version !== 'number') throw new KeywayError('not_found', `${where}: no such parameter`);
    return String(p.Version);
  }

  /** GetParameters, 10 names per call (selectors included); names SSM reports invalid are not_found. */
  async lookupMany(reqs: readonly ProviderRequest[], signal: AbortSignal): Promise<(SecretValue | KeywayError)[]> {
    const results: (SecretValue | KeywayError | undefined)[] = new Array<SecretValue | KeywayError | undefined>(reqs.length).fill(undefined);
    const byRegion = new Map<string, { i: number; full: string }[]>();
    reqs.forEach((r, i) => {
      try {
        const { name, selector } = this.#selector(r);
        const key = r.options.region ?? '';
        byRegion.set(key, [...(byRegion.get(key) ?? []), { i, full: selector ? `${name}:${selector}` : name }]);
      } catch (e) {
        results[i] = e as KeywayError;
      }
    });
    for (const [region, items] of byRegion) {
      for (let start = 0; start < items.length; start += BATCH_MAX) {
        const chunk = items.slice(start, start + BATCH_MAX);
        const names = [...new Set(chunk.map((c) => c.full))];
        try {
          const out = await this.#aws.call(region === '' ? undefined : region, 'GetParameters', { Names: names, WithDecryption: this.#withDecryption }, signal, `${this.where}: ${names.length} parameters`);
          const params = Array.isArray(out.Parameters) ? out.Parameters.filter(isRecord) : [];
          for (const c of chunk) {
            const req = reqs[c.i];
            if (!req) continue;
            const colon = c.full.lastIndexOf(':');
            const [name, sel] = colon > 0 ? [c.full.slice(0, colon), `:${c.full.slice(colon + 1)}`] : [c.full, undefined];
            const p = params.find((x) => x.Name === name && (sel === undefined ? x.Selector === undefined : x.Selector === sel));
            results[c.i] = p ? this.#decode({ ...p }, req) : new KeywayError('not_found', `${this.#where(req)}: no such parameter or version`);
          }
          for (const p of params) delete p.Value;
        } catch (e) {
          if (signal.aborted) throw e;
          for (const c of chunk) results[c.i] = e instanceof KeywayError ? e : new KeywayError('internal', `${this.where}: unexpected error`, { cause: e });
        }
      }
    }
    return results.map((r) => r ?? new KeywayError('internal', `${this.where}: batch result missing`));
  }
}
