// Batched upstream reads for Broker.resolveMany: the targets of one window that a provider can
// fetch together (`lookupMany`, e.g. AWS BatchGetSecretValue) are fetched in one guarded call,
// each as the single-flight call for its cache key, so the broker's ordinary resolve() of each
// target joins it and keeps every other step (cache, last-known-good, fragment, audit, metrics).
// A target the batch could not answer (the whole call failed, or a transient error for that one)
// falls back to its own upstream call with the usual retries: batching never makes a read fail
// that a single read would have served.
import { KeywayError, isTransient, toKeywayError } from '../core/errors.js';
import type { Provider, ProviderRequest, WorkloadIdentity } from '../core/provider.js';
import type { Reference } from '../core/reference.js';
import type { SecretValue } from '../core/secret-value.js';
import type { ProviderPolicy } from './policy.js';
import type { SingleFlight } from './single-flight.js';
import { untilDeadline } from './until-deadline.js';

/** One target the broker found batchable: its provider has lookupMany and nothing fresh is cached. */
export interface BatchItem {
  readonly key: string;
  readonly ref: Reference;
  readonly provider: Provider & Required<Pick<Provider, 'lookupMany'>>;
  readonly request: Omit<ProviderRequest, 'signal'>;
  readonly policy: ProviderPolicy;
  readonly ttlMs: number;
}

export interface BatchDeps {
  readonly flight: SingleFlight;
  /** Returns the value, or zeroes it and throws too_large when over limits.max_secret_bytes. */
  withinLimit(value: SecretValue): SecretValue;
  /** One lookupMany under the provider's breaker, limiter and deadline (no retries). */
  guarded(item: BatchItem, fn: (deadline: AbortSignal) => Promise<(SecretValue | KeywayError)[]>): Promise<(SecretValue | KeywayError)[]>;
  /** The broker's ordinary upstream call for one reference (retries, backoff, deadline). */
  upstream(ref: Reference, identity: WorkloadIdentity, policy: ProviderPolicy): Promise<SecretValue>;
  /** Stores a fetched value as the single-flight call of resolve() would. */
  store(item: BatchItem, value: SecretValue): void;
}

interface Settle {
  resolve(v: (SecretValue | KeywayError)[]): void;
  reject(e: unknown): void;
}

/** Starts one batched lookup per provider for `items`; resolve() calls for them join it. */
export function startBatches(items: readonly BatchItem[], identity: WorkloadIdentity, deps: BatchDeps): void {
  const groups = new Map<string, BatchItem[]>();
  for (const it of items) {
    const g = groups.get(it.ref.provider);
    if (g) {
      if (!g.some((o) => o.key === it.key)) g.push(it);
    } else groups.set(it.ref.provider, [it]);
  }
  for (const group of groups.values()) if (group.length >= 2) startGroup(group, identity, deps);
}

function startGroup(group: readonly BatchItem[], identity: WorkloadIdentity, deps: BatchDeps): void {
  let settle: Settle | undefined;
  const answers = new Promise<(SecretValue | KeywayError)[]>((resolve, reject) => (settle = { resolve, reject }));
  const claimed: BatchItem[] = [];
  for (const it of group) {
    const index = claimed.length;
    // A key already in flight is left to that call; the others become calls answered by the batch.
    if (deps.flight.start(it.key, () => answer(it, index, answers, identity, deps))) claimed.push(it);
  }
  const first = claimed[0];
  if (!first || !settle) return;
  const done = settle;
  deps
    .guarded(first, async (deadline) => {
      const out = await untilDeadline(
        first.provider.lookupMany(
          claimed.map((c) => ({ ...c.request, signal: deadline })),
          deadline,
        ),
        deadline,
        (late) => {
          for (const v of late) if (!(v instanceof KeywayError)) v.zero();
        },
      );
      if (out.length !== claimed.length) {
        for (const v of out) if (!(v instanceof KeywayError)) v.zero();
        throw new KeywayError('internal', `provider "${first.ref.provider}" answered ${out.length} of ${claimed.length} batched lookups`);
      }
      return out;
    })
    .then(done.resolve, done.reject);
}

async function answer(it: BatchItem, index: number, answers: Promise<(SecretValue | KeywayError)[]>, identity: WorkloadIdentity, deps: BatchDeps): Promise<SecretValue> {
  let got: SecretValue | KeywayError | undefined;
  try {
    got = (await answers)[index];
  } catch (e) {
    const whole = toKeywayError(e);
    // A batch that ran out of time would only make every single read wait that long again.
    if (whole.code === 'timeout') throw whole;
    got = undefined;
  }
  if (got instanceof KeywayError && !isTransient(got)) throw got;
  if (got === undefined || got instanceof KeywayError) {
    const value = await deps.upstream(it.ref, identity, it.policy);
    deps.store(it, value);
    return value;
  }
  const value = deps.withinLimit(got);
  deps.store(it, value);
  return value;
}
