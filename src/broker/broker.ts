// The broker: NAME or REF in, bytes out. Every frontend resolves through here, so checks (option
// keys, size limit), fragment selection and auditing happen once for all of them.
import { createHmac, randomBytes } from 'node:crypto';
import { KeywayError, toKeywayError } from '../core/errors.js';
import { selectPointer } from '../core/json-pointer.js';
import type { Logger } from '../core/logger.js';
import { validateSecretName } from '../core/names.js';
import type { Provider } from '../core/provider.js';
import { describeReference, isReference, parseReference, type Reference } from '../core/reference.js';
import type { SecretValue } from '../core/secret-value.js';
import type { AuditLog } from '../store/audit.js';
import type { SecretRecord, SecretsRepo } from '../store/secrets.js';
import type { ProviderRegistry } from './registry.js';
import type { ResolveContext, Resolved, Resolver } from './types.js';

/** Query keys the broker itself understands; providers never see them. */
export const BROKER_QUERY_KEYS = ['ttl'] as const;
/** Provider name that means "the named secret NAME": `ref+secret://NAME`. */
export const NAMED_SECRET_PROVIDER = 'secret';
export const LOCAL_PROVIDER = 'local';

export interface BrokerDeps {
  readonly registry: ProviderRegistry;
  readonly secrets: SecretsRepo;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly maxSecretBytes: number;
}

interface Target {
  readonly ref: Reference;
  readonly record?: SecretRecord;
  /** What the audit log and errors call it: the secret name or a log-safe reference. */
  readonly subject: string;
}

export class Broker implements Resolver {
  readonly #d: BrokerDeps;
  /** Per-process key for content-derived version tokens (never a raw hash of a secret). */
  readonly #versionKey = randomBytes(32);

  constructor(deps: BrokerDeps) {
    this.#d = deps;
  }

  get registry(): ProviderRegistry {
    return this.#d.registry;
  }

  /** Parses NAME or REF into the reference to fetch, following a named secret to what backs it. */
  target(text: string): Target {
    if (!isReference(text)) return this.#named(validateSecretName(text), undefined, 0);
    return this.#fromRef(parseReference(text), 0);
  }

  #fromRef(ref: Reference, depth: number): Target {
    if (ref.provider === NAMED_SECRET_PROVIDER) {
      if (Object.keys(ref.query).length > 0) throw new KeywayError('invalid_argument', 'reference: ref+secret:// takes no query options');
      return this.#named(validateSecretName(ref.path), ref.pointer, depth);
    }
    this.checkOptions(ref);
    return { ref, subject: describeReference(ref) };
  }

  #named(name: string, pointer: readonly string[] | undefined, depth: number): Target {
    // Named secrets may point at other named secrets; a short chain limit stops cycles.
    if (depth > 8) throw new KeywayError('invalid_argument', `secret ${JSON.stringify(name)}: ref+secret:// chain is longer than 8 (a cycle?)`);
    const record = this.#d.secrets.get(name);
    if (!record) throw new KeywayError('not_found', `no secret named ${JSON.stringify(name)}`);
    const inner = record.ref !== null ? this.#fromRef(parseReference(record.ref), depth + 1) : { ref: { provider: LOCAL_PROVIDER, path: record.blobId ?? '', query: {} } };
    let ref: Reference = inner.ref;
    if (pointer !== undefined) {
      // An outer fragment selects within whatever the stored reference selected.
      ref = { ...ref, pointer: [...(ref.pointer ?? []), ...pointer] };
    }
    return { ref, record, subject: name };
  }

  /** Refuses query keys the provider does not declare (checked without contacting the backend). */
  checkOptions(ref: Reference): Provider {
    const provider = this.#d.registry.get(ref.provider);
    for (const key of Object.keys(ref.query)) {
      if ((BROKER_QUERY_KEYS as readonly string[]).includes(key)) continue;
      if (!provider.optionKeys.includes(key)) {
        const allowed = [...provider.optionKeys, ...BROKER_QUERY_KEYS].join(', ');
        throw new KeywayError('invalid_argument', `reference: provider "${ref.provider}" has no option "${key}" (allowed: ${allowed})`);
      }
    }
    return provider;
  }

  #providerOptions(ref: Reference): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(ref.query)) if (!(BROKER_QUERY_KEYS as readonly string[]).includes(k)) out[k] = v;
    return out;
  }

  async resolve(text: string, ctx: ResolveContext): Promise<Resolved> {
    let subject = isReference(text) ? '(reference)' : text;
    let providerName: string | undefined;
    try {
      const t = this.target(text);
      subject = t.subject;
      providerName = t.ref.provider;
      const provider = this.#d.registry.get(t.ref.provider);
      const req = { path: t.ref.path, options: this.#providerOptions(t.ref), signal: ctx.signal, identity: ctx.identity };
      let value = await provider.lookup(req);
      if (value.length > this.#d.maxSecretBytes) {
        value.zero();
        throw new KeywayError('too_large', `${t.subject}: value is larger than limits.max_secret_bytes (${this.#d.maxSecretBytes})`);
      }
      if (t.ref.pointer !== undefined) {
        const whole = value;
        try {
          value = selectPointer(whole, t.ref.pointer, t.subject);
        } finally {
          whole.zero();
        }
      }
      this.#audit('resolve', ctx, subject, providerName, 'ok');
      return {
        value,
        source: describeReference(t.ref),
        provider: t.ref.provider,
        ...(t.record ? { name: t.record.name } : {}),
        ...(t.record?.mode != null ? { mode: t.record.mode } : {}),
        ...(t.record?.uid != null ? { uid: t.record.uid } : {}),
        ...(t.record?.gid != null ? { gid: t.record.gid } : {}),
      };
    } catch (e) {
      const err = toKeywayError(e, subject);
      this.#audit('resolve', ctx, subject, providerName, 'error', err.code);
      throw err;
    }
  }

  async version(text: string, ctx: ResolveContext): Promise<string> {
    const t = this.target(text);
    const provider = this.#d.registry.get(t.ref.provider);
    if (provider.version && t.ref.pointer === undefined) {
      const v = await provider.version({ path: t.ref.path, options: this.#providerOptions(t.ref), signal: ctx.signal, identity: ctx.identity });
      return `p:${v}`;
    }
    const r = await this.resolve(text, ctx);
    try {
      return this.contentVersion(r.value);
    } finally {
      r.value.zero();
    }
  }

  /** HMAC of content under a per-process key: comparable within this process, meaningless outside. */
  contentVersion(value: SecretValue): string {
    return 'c:' + createHmac('sha256', this.#versionKey).update(value.expose()).digest('hex').slice(0, 32);
  }

  #audit(action: string, ctx: ResolveContext, subject: string, provider: string | undefined, outcome: 'ok' | 'error', code?: string): void {
    try {
      this.#d.audit.record({
        action,
        frontend: ctx.identity.frontend,
        subject,
        outcome,
        ...(ctx.identity.consumer ? { consumer: ctx.identity.consumer } : {}),
        ...(provider ? { provider } : {}),
        ...(code ? { code } : {}),
      });
    } catch (e) {
      // Auditing must not turn a successful read into a failure, but it must be visible.
      this.#d.logger.warn({ err: toKeywayError(e).message }, 'audit write failed');
    }
  }
}
