// Concurrent requests for the same key share one upstream call. Every waiter gets its own copy of
// the value (the shared original is zeroed once all copies are made).
import { throwIfAborted } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';

/** Waits for `p`, or rejects as soon as `signal` fires (without cancelling `p`). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  throwIfAborted(signal, 'waiting for the secret');
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      try {
        throwIfAborted(signal, 'waiting for the secret');
      } catch (e) {
        reject(e);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export class SingleFlight {
  readonly #inflight = new Map<string, Promise<SecretValue>>();

  get size(): number {
    return this.#inflight.size;
  }

  /**
   * Runs `fn` unless a call for `key` is already running; resolves to a private copy either way.
   * `fn` must not depend on any one caller's signal: a caller that gives up (`signal`) stops
   * waiting, while the shared call goes on for the others.
   */
  async do(key: string, fn: () => Promise<SecretValue>, signal?: AbortSignal): Promise<{ value: SecretValue; shared: boolean }> {
    const shared = !this.start(key, fn);
    const running = this.#inflight.get(key) as Promise<SecretValue>;
    const v = await untilAborted(running, signal);
    return { value: v.clone(), shared };
  }

  /**
   * Starts `fn` as the call for `key` unless one is already running, without waiting for it:
   * later `do` calls for the key join it (the broker's batched lookups). True when it started.
   */
  start(key: string, fn: () => Promise<SecretValue>): boolean {
    if (this.#inflight.has(key)) return false;
    const p = fn();
    this.#inflight.set(key, p);
    // Callers copy the shared original in continuations queued before it resolved; zeroing it
    // on the next macrotask runs after every one of them.
    p.then(
      (v) => setImmediate(() => v.zero()),
      () => undefined,
    ).finally(() => this.#inflight.delete(key));
    return true;
  }
}
