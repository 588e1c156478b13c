// Fetches many things with a bounded number in flight, all or nothing: on the first failure the
// rest stop, and every result already fetched (or arriving late) is wiped before the error is
// thrown. The broker's resolveMany and every frontend that needs several secrets for one consumer
// go through here, so "resolve all, or wipe all" is written once.
import { KeywayError, throwIfAborted, toKeywayError } from './errors.js';
import type { SecretValue } from './secret-value.js';

/** Fetches at once when the caller does not say: one consumer's list, not a flood. */
export const DEFAULT_CONCURRENCY = 16;

export interface AllOrNothingOptions<T> {
  /** At most this many fetches at once (default DEFAULT_CONCURRENCY). */
  readonly concurrency?: number;
  readonly signal: AbortSignal;
  /** Wipes a result that will not be returned. */
  readonly wipe: (v: T) => void;
  /** Sees each result as it arrives (a running size budget); throwing fails the whole call. */
  readonly onValue?: (v: T, index: number) => void;
  /** The error reported for the first failure (e.g. naming which item it was). */
  readonly describeFailure?: (e: KeywayError, index: number) => KeywayError;
  /** What a cancellation of `signal` is reported as (default "resolving secrets"). */
  readonly what?: string;
}

export async function allOrNothing<T>(count: number, fetch: (index: number, signal: AbortSignal) => Promise<T>, opts: AllOrNothingOptions<T>): Promise<T[]> {
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new KeywayError('internal', 'concurrency must be a positive integer');
  const what = opts.what ?? 'resolving secrets';
  const results = new Array<T | undefined>(count);
  const stop = new AbortController();
  const inner = AbortSignal.any([opts.signal, stop.signal]);
  let next = 0;
  let failure: KeywayError | undefined;
  const fail = (e: unknown, index: number): void => {
    if (failure !== undefined) return;
    const err = toKeywayError(e);
    failure = opts.describeFailure ? opts.describeFailure(err, index) : err;
    stop.abort(failure);
  };
  const worker = async (): Promise<void> => {
    // Each worker listens on its own signal derived from the shared one: waiters attach abort
    // listeners, and many of them on one signal would trip MaxListeners.
    const mine = AbortSignal.any([inner]);
    while (failure === undefined && next < count) {
      const i = next++;
      try {
        throwIfAborted(mine, what);
        const v = await fetch(i, mine);
        if (failure !== undefined) {
          opts.wipe(v);
          break;
        }
        try {
          opts.onValue?.(v, i);
        } catch (e) {
          opts.wipe(v);
          throw e;
        }
        results[i] = v;
      } catch (e) {
        fail(e, i);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    // The caller's own deadline or cancellation explains any failure it caused.
    throwIfAborted(opts.signal, what);
    if (failure) throw failure;
    return results as T[];
  } catch (e) {
    for (const v of results) if (v !== undefined) opts.wipe(v);
    throw e;
  }
}

/**
 * allOrNothing over targets whose results carry a SecretValue as `value`: how a resolver without
 * batching implements resolveMany (results in input order, values zeroed on failure).
 */
export function resolveEach<R extends { readonly value: SecretValue }>(
  targets: readonly string[],
  resolve: (target: string, signal: AbortSignal) => Promise<R>,
  signal: AbortSignal,
  opts: Omit<AllOrNothingOptions<R>, 'signal' | 'wipe'> = {},
): Promise<R[]> {
  return allOrNothing(targets.length, (i, s) => resolve(targets[i] as string, s), { ...opts, signal, wipe: (r) => r.value.zero() });
}
