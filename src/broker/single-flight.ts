// Concurrent requests for the same key share one upstream call. Every waiter gets its own copy of
// the value (the shared original is zeroed once all copies are made).
import type { SecretValue } from '../core/secret-value.js';

export class SingleFlight {
  readonly #inflight = new Map<string, Promise<SecretValue>>();

  get size(): number {
    return this.#inflight.size;
  }

  /** Runs `fn` unless a call for `key` is already running; resolves to a private copy either way. */
  async do(key: string, fn: () => Promise<SecretValue>): Promise<{ value: SecretValue; shared: boolean }> {
    const running = this.#inflight.get(key);
    if (running) return { value: (await running).clone(), shared: true };
    const p = fn();
    this.#inflight.set(key, p);
    try {
      const v = await p;
      // Waiters copy the shared original in their own continuations, all queued before the
      // resolution; zeroing it on the next macrotask runs after every one of them.
      const mine = v.clone();
      setImmediate(() => v.zero());
      return { value: mine, shared: false };
    } finally {
      this.#inflight.delete(key);
    }
  }
}
