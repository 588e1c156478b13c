// The broker: NAME or REF in, bytes out. Every frontend resolves through here, so option checks,
// the size limit, caching, single-flight, retries, rate limits, the circuit breaker,
// last-known-good, fragment selection, metrics and auditing happen once for all of them.
import { createHmac, randomBytes } from 'node:crypto';
import { allOrNothing, DEFAULT_CONCURRENCY } from '../core/all-or-nothing.js';
import { backoffDelay } from '../core/backoff.js';
import { KeywayError, isTransient, toKeywayError } from '../core/errors.js';
import { selectPointer } from '../core/json-pointer.js';
import type { Logger } from '../core/logger.js';
import { validateSecretName } from '../core/names.js';
import type { Provider, WorkloadIdentity } from '../core/provider.js';
import { describeReference, formatReference, isReference, parseReference, type Reference } from '../core/reference.js';
import type { SecretValue } from '../core/secret-value.js';
import type { AuditLog } from '../store/audit.js';
import type { SecretRecord, SecretsRepo } from '../store/secrets.js';
import type { ProviderRegistry } from './registry.js';
import type { ResolveContext, ResolveManyOptions, Resolved, Resolver } from './types.js';
import { startBatches, type BatchItem } from './batch.js';
import { untilDeadline as untilDeadlineOr } from './until-deadline.js';
import { systemClock, type Clock } from './clock.js';
import { ValueCache } from './cache.js';
import { SingleFlight } from './single-flight.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import { Limiter } from './limiter.js';
import { DEFAULT_POLICY, RETRY_BACKOFF_CAP_MS, parseDuration, type ProviderPolicy } from './policy.js';
import type { BrokerMetrics } from './metrics.js';

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
  /** Per provider instance; providers without an entry use `defaultPolicy`. */
  readonly policies?: ReadonlyMap<string, ProviderPolicy>;
  readonly defaultPolicy?: ProviderPolicy;
  readonly clock?: Clock;
  readonly metrics?: BrokerMetrics;
}

export interface Target {
  readonly ref: Reference;
  readonly record?: SecretRecord;
  /** What the audit log and errors call it: the secret name or a log-safe reference. */
  readonly subject: string;
}

interface Guard {
  readonly breaker: CircuitBreaker;
  readonly limiter: Limiter;
}

type CacheResult = 'hit' | 'miss' | 'negative' | 'stale' | 'shared' | 'refresh';

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };
/**
 * Waits for a provider's answer, or gives up when the deadline fires even if the provider ignores
 * its signal; a value that arrives after that is wiped.
 */
function untilDeadline(p: Promise<SecretValue>, deadline: AbortSignal): Promise<SecretValue> {
  return untilDeadlineOr(p, deadline, (v) => v.zero());
}

export class Broker implements Resolver {
  readonly #d: BrokerDeps;
  readonly #clock: Clock;
  readonly #cache: ValueCache;
  readonly #flight = new SingleFlight();
  readonly #guards = new Map<string, Guard>();
  /** Per-process key for content-derived version tokens (never a raw hash of a secret). */
  readonly #versionKey = randomBytes(32);

  constructor(deps: BrokerDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? systemClock;
    this.#cache = new ValueCache(this.#clock);
  }

  get registry(): ProviderRegistry {
    return this.#d.registry;
  }

  /** Parses NAME or REF into the reference to fetch, following named secrets to what backs them. */
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
    // An outer fragment selects within whatever the stored reference selected.
    if (pointer !== undefined) ref = { ...ref, pointer: [...(ref.pointer ?? []), ...pointer] };
    return { ref, record, subject: name };
  }

  /**
   * Refuses query keys the provider does not declare (checked without contacting the backend),
   * and `ref+local://` references to a named secret's own stored value: that blob is replaced
   * (and the old one deleted) whenever the secret is, so such a reference would break silently.
   */
  checkOptions(ref: Reference): Provider {
    const provider = this.#d.registry.get(ref.provider);
    if (provider.type === LOCAL_PROVIDER && this.#d.secrets.blobInUse(ref.path)) {
      throw new KeywayError('invalid_argument', `reference: ref+${ref.provider}:// names the stored value of a named secret, which is replaced with the secret; refer to the secret by name (NAME or ref+secret://NAME)`);
    }
    for (const key of Object.keys(ref.query)) {
      if ((BROKER_QUERY_KEYS as readonly string[]).includes(key)) continue;
      if (!provider.optionKeys.includes(key)) {
        const allowed = [...provider.optionKeys, ...BROKER_QUERY_KEYS].join(', ');
        throw new KeywayError('invalid_argument', `reference: provider "${ref.provider}" has no option "${key}" (allowed: ${allowed})`);
      }
    }
    if (ref.query.ttl !== undefined) parseDuration(ref.query.ttl, 'reference option ttl');
    return provider;
  }

  policy(provider: string): ProviderPolicy {
    return this.#d.policies?.get(provider) ?? this.#d.defaultPolicy ?? DEFAULT_POLICY;
  }

  /** Breaker state per provider instance that has been used. */
  breakerStates(): Record<string, BreakerState> {
    return Object.fromEntries([...this.#guards].map(([k, g]) => [k, g.breaker.state]));
  }

  /** Forgets cached values (all, or those of one reference/name). */
  invalidate(text?: string): void {
    if (text === undefined) return this.#cache.invalidate();
    const t = this.target(text);
    this.#cache.invalidate(this.#cacheKey(t.ref, undefined));
  }

  async resolve(text: string, ctx: ResolveContext): Promise<Resolved> {
    const started = this.#clock.now();
    let subject = isReference(text) ? '(reference)' : text;
    let providerName = 'unknown';
    let cache: CacheResult = 'miss';
    try {
      const t = this.target(text);
      subject = t.subject;
      providerName = t.ref.provider;
      const fetched = await this.#fetch(t, ctx);
      cache = fetched.cache;
      let value = fetched.value;
      if (t.ref.pointer !== undefined) {
        const whole = value;
        try {
          value = selectPointer(whole, t.ref.pointer, t.subject);
        } finally {
          whole.zero();
        }
      }
      this.#finish(ctx, subject, providerName, cache === 'stale' ? 'stale' : 'ok', cache, started);
      return {
        value,
        source: describeReference(t.ref),
        provider: t.ref.provider,
        ...(fetched.version !== undefined ? { version: fetched.version } : {}),
        ...(t.record ? { name: t.record.name } : {}),
        ...(t.record?.mode != null ? { mode: t.record.mode } : {}),
        ...(t.record?.uid != null ? { uid: t.record.uid } : {}),
        ...(t.record?.gid != null ? { gid: t.record.gid } : {}),
      };
    } catch (e) {
      const err = toKeywayError(e, subject);
      this.#finish(ctx, subject, providerName, 'error', cache, started, err.code);
      throw err;
    }
  }

  /**
   * Every target, all or nothing (src/core/all-or-nothing.ts): at most `concurrency` resolves at
   * once, results in input order, and on any failure every value already resolved is zeroed. Each
   * window of targets is first offered to providers that fetch in batches (./batch.ts); resolve()
   * then does the rest of each target's work as usual.
   */
  resolveMany(targets: readonly string[], ctx: ResolveContext, opts: ResolveManyOptions = {}): Promise<Resolved[]> {
    const window = opts.concurrency ?? DEFAULT_CONCURRENCY;
    return allOrNothing(
      targets.length,
      (i, signal) => {
        // Workers take targets in order, so the first of a window starts its batches before the
        // others of that window look for them.
        if (i % window === 0) this.#startBatches(targets.slice(i, i + window), ctx);
        return this.resolve(targets[i] as string, { ...ctx, signal });
      },
      { ...opts, signal: ctx.signal, wipe: (r) => r.value.zero() },
    );
  }

  #startBatches(texts: readonly string[], ctx: ResolveContext): void {
    const items: BatchItem[] = [];
    for (const text of texts) {
      try {
        const t = this.target(text);
        const provider = this.#d.registry.get(t.ref.provider);
        if (!provider.lookupMany) continue;
        const key = this.#cacheKey(t.ref, ctx.identity);
        const hit = ctx.refresh ? undefined : this.#cache.get(key);
        if (hit) {
          if (hit.kind === 'fresh') hit.value.zero();
          continue;
        }
        const policy = this.policy(t.ref.provider);
        const ttlMs = this.#ttlMs(t.ref, policy);
        const request = { path: t.ref.path, options: this.#providerOptions(t.ref), identity: ctx.identity };
        items.push({ key, ref: t.ref, provider: provider as BatchItem['provider'], request, policy, ttlMs });
      } catch {
        // Not batchable: resolve() reports what is wrong with it.
      }
    }
    startBatches(items, ctx.identity, {
      flight: this.#flight,
      withinLimit: (value) => this.#withinLimit(value),
      guarded: (item, fn) => this.#guardedBatch(item, fn),
      upstream: (ref, identity, policy) => this.#upstream(ref, identity, policy),
      store: (item, value) => this.#cache.put(item.key, value, item.ttlMs, item.policy.maxStaleMs),
    });
  }

  /** One batched call under the provider's breaker, limiter and deadline; not retried. */
  async #guardedBatch<T>(item: BatchItem, fn: (deadline: AbortSignal) => Promise<T>): Promise<T> {
    const name = item.ref.provider;
    const deadline = AbortSignal.timeout(item.policy.timeoutMs);
    const r = await this.#guarded(name, this.#guard(name, item.policy), deadline, () => fn(deadline), (e) =>
      deadline.aborted ? new KeywayError('timeout', `provider "${name}" did not answer within the ${item.policy.timeoutMs} ms timeout (1 batched attempt)`) : toKeywayError(e),
    );
    if (!r.ok) throw r.error;
    return r.value;
  }

  /**
   * One call under a provider's breaker and limiter, counted in the upstream metric. Every failed
   * call reaches the breaker (a provider's own too_large included): a half-open trial must always
   * end, or the breaker would refuse every later call. `errorOf` names the failure, which decides
   * both whether the breaker counts it and the metric's outcome. A breaker that refuses the call
   * throws; a failed call is returned, so the caller decides whether to retry.
   */
  async #guarded<T>(name: string, guard: Guard, deadline: AbortSignal, run: () => Promise<T>, errorOf: (e: unknown) => KeywayError): Promise<{ ok: true; value: T } | { ok: false; error: KeywayError }> {
    guard.breaker.enter();
    let value: T;
    try {
      value = await guard.limiter.run(deadline, run);
    } catch (e) {
      const error = errorOf(e);
      guard.breaker.failure(isTransient(error));
      this.#d.metrics?.upstream.inc({ provider: name, outcome: error.code });
      return { ok: false, error };
    }
    guard.breaker.success();
    this.#d.metrics?.upstream.inc({ provider: name, outcome: 'ok' });
    return { ok: true, value };
  }

  /** Cache, then single-flight upstream; on a transient failure, last-known-good if allowed. */
  async #fetch(t: Target, ctx: ResolveContext): Promise<{ value: SecretValue; cache: CacheResult; version?: string }> {
    const policy = this.policy(t.ref.provider);
    const ttlMs = this.#ttlMs(t.ref, policy);
    const key = this.#cacheKey(t.ref, ctx.identity);
    if (!ctx.refresh) {
      const hit = this.#cache.get(key);
      if (hit?.kind === 'fresh') {
        this.#d.metrics?.cache.inc({ provider: t.ref.provider, result: 'hit' });
        return { value: hit.value, cache: 'hit', ...(hit.version !== undefined ? { version: hit.version } : {}) };
      }
      if (hit?.kind === 'negative') {
        this.#d.metrics?.cache.inc({ provider: t.ref.provider, result: 'negative' });
        throw hit.error;
      }
    }
    try {
      // The shared upstream call runs on its own signal (its per-attempt timeouts still apply), so
      // one caller giving up does not fail the others waiting on it; it fills the cache itself.
      const { value, shared } = await this.#flight.do(
        key,
        async () => {
          const v = await this.#upstream(t.ref, ctx.identity, policy);
          this.#cache.put(key, v, ttlMs, policy.maxStaleMs);
          return v;
        },
        ctx.signal,
      );
      const result: CacheResult = shared ? 'shared' : ctx.refresh ? 'refresh' : 'miss';
      this.#d.metrics?.cache.inc({ provider: t.ref.provider, result });
      return { value, cache: result };
    } catch (e) {
      const err = toKeywayError(e, t.subject);
      if (err.code === 'not_found') this.#cache.putNegative(key, err, policy.negativeTtlMs);
      if (isTransient(err) && policy.maxStaleMs > 0) {
        const stale = this.#cache.stale(key);
        if (stale) {
          this.#d.metrics?.cache.inc({ provider: t.ref.provider, result: 'stale' });
          this.#d.logger.warn({ subject: t.subject, provider: t.ref.provider, ageMs: stale.ageMs, code: err.code }, 'backend failing; serving last known good value');
          return { value: stale.value, cache: 'stale' };
        }
      }
      throw err;
    }
  }

  /**
   * One guarded upstream call: breaker, concurrency/rate limit, retries with backoff, all under
   * one deadline of `policy.timeoutMs` for the whole call (waiting, every attempt and every
   * backoff), so `timeout = 3s` means at most about 3 s whatever the retry count. It belongs to
   * no single caller (it is shared through single-flight), so only that deadline bounds it.
   */
  async #upstream(ref: Reference, identity: WorkloadIdentity, policy: ProviderPolicy): Promise<SecretValue> {
    const provider = this.#d.registry.get(ref.provider);
    const guard = this.#guard(ref.provider, policy);
    const options = this.#providerOptions(ref);
    const deadline = AbortSignal.timeout(policy.timeoutMs);
    const expired = (attempts: number): KeywayError =>
      new KeywayError('timeout', `provider "${ref.provider}" did not answer within the ${policy.timeoutMs} ms timeout (${attempts} attempt${attempts === 1 ? '' : 's'})`);
    for (let attempt = 0; ; attempt++) {
      if (deadline.aborted) throw expired(attempt);
      const r = await this.#guarded(
        ref.provider,
        guard,
        deadline,
        () => untilDeadline(provider.lookup({ path: ref.path, options, signal: deadline, identity }), deadline),
        (e) => toKeywayError(e),
      );
      if (r.ok) return this.#withinLimit(r.value);
      const err = r.error;
      if (deadline.aborted) throw expired(attempt + 1);
      if (!isTransient(err) || attempt >= policy.retries || guard.breaker.state === 'open') throw err;
      // Exponential backoff with full jitter, cut short by the deadline.
      const delay = backoffDelay({ baseMs: policy.backoffMs, capMs: RETRY_BACKOFF_CAP_MS, jitter: 1 }, attempt);
      await this.#clock.sleep(delay, deadline).catch(() => undefined);
    }
  }

  /** Refuses (and zeroes) a fetched value over limits.max_secret_bytes. */
  #withinLimit(value: SecretValue): SecretValue {
    if (value.length > this.#d.maxSecretBytes) {
      value.zero();
      throw new KeywayError('too_large', `value is larger than limits.max_secret_bytes (${this.#d.maxSecretBytes})`);
    }
    return value;
  }

  #guard(name: string, policy: ProviderPolicy): Guard {
    let g = this.#guards.get(name);
    if (!g) {
      const breaker = new CircuitBreaker(name, this.#clock, policy.breakerThreshold, policy.breakerCooldownMs);
      breaker.onChange = (s) => {
        this.#d.metrics?.breaker.set({ provider: name }, BREAKER_GAUGE[s]);
        this.#d.logger.warn({ provider: name, state: s }, 'provider circuit breaker changed state');
      };
      g = { breaker, limiter: new Limiter(this.#clock, policy.concurrency, policy.ratePerSecond) };
      this.#guards.set(name, g);
    }
    return g;
  }

  /** Cache key: the reference without fragment (the whole document is cached), plus the workload's
   * provider parameters, plus who asks when the provider authenticates as the workload, so one pod
   * never gets another pod's cached read. */
  #cacheKey(ref: Reference, identity: WorkloadIdentity | undefined): string {
    const { pointer: _p, ...whole } = ref;
    let key = formatReference(whole);
    // Provider parameters from the workload (CSI providerParams) can change what is fetched.
    if (identity?.params && Object.keys(identity.params).length > 0) key += '\0' + JSON.stringify(Object.entries(identity.params).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (!identity?.tokens || identity.tokens.size === 0) return key;
    return `${key}\0${identity.pod?.namespace ?? ''}/${identity.pod?.serviceAccount ?? ''}/${identity.pod?.uid ?? ''}`;
  }

  /** How long a value stays fresh: the reference's `ttl` option, else the provider's policy. */
  #ttlMs(ref: Reference, policy: ProviderPolicy): number {
    return ref.query.ttl !== undefined ? parseDuration(ref.query.ttl, 'reference option ttl') : policy.ttlMs;
  }

  #providerOptions(ref: Reference): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(ref.query)) if (!(BROKER_QUERY_KEYS as readonly string[]).includes(k)) out[k] = v;
    return out;
  }

  async version(text: string, ctx: ResolveContext): Promise<string> {
    const t = this.target(text);
    const provider = this.#d.registry.get(t.ref.provider);
    if (provider.version && t.ref.pointer === undefined) {
      const v = await provider.version({ path: t.ref.path, options: this.#providerOptions(t.ref), signal: ctx.signal, identity: ctx.identity });
      return `p:${v}`;
    }
    const r = await this.resolve(text, { ...ctx, refresh: true });
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

  #finish(ctx: ResolveContext, subject: string, provider: string, outcome: 'ok' | 'error' | 'stale', cache: CacheResult, started: number, code?: string): void {
    const m = this.#d.metrics;
    if (m) {
      m.requests.inc({ provider, frontend: ctx.identity.frontend, outcome: code ?? outcome, secret: m.secretNames ? subject : '' });
      m.latency.observe({ provider, cache: cache === 'hit' ? 'hit' : 'miss' }, (this.#clock.now() - started) / 1000);
    }
    try {
      this.#d.audit.record({
        action: 'resolve',
        frontend: ctx.identity.frontend,
        subject,
        provider,
        outcome,
        cache: cache === 'hit' || cache === 'negative' ? 'hit' : cache === 'stale' ? 'stale' : 'miss',
        ...(ctx.identity.consumer ? { consumer: ctx.identity.consumer } : {}),
        ...(code ? { code } : {}),
      });
    } catch (e) {
      // Auditing must not turn a successful read into a failure, but it must be visible.
      this.#d.logger.warn({ err: toKeywayError(e).message }, 'audit write failed');
    }
  }
}
