// Per-provider protection of the backend: at most `concurrency` calls at once and, optionally, at
// most `ratePerSecond` call starts per second (token bucket). Waiting honours the caller's signal.
import { throwIfAborted } from '../core/errors.js';
import type { Clock } from './clock.js';

export class Limiter {
  readonly #clock: Clock;
  readonly #concurrency: number;
  readonly #rate: number;
  #active = 0;
  readonly #queue: (() => void)[] = [];
  #tokens: number;
  #refilledAt: number;

  constructor(clock: Clock, concurrency: number, ratePerSecond = 0) {
    this.#clock = clock;
    this.#concurrency = Math.max(1, concurrency);
    this.#rate = ratePerSecond;
    this.#tokens = ratePerSecond;
    this.#refilledAt = clock.now();
  }

  get active(): number {
    return this.#active;
  }

  async run<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    await this.#acquire(signal);
    try {
      await this.#token(signal);
      return await fn();
    } finally {
      this.#release();
    }
  }

  async #acquire(signal: AbortSignal): Promise<void> {
    throwIfAborted(signal, 'waiting for the provider');
    if (this.#active < this.#concurrency) {
      this.#active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.#queue.indexOf(go);
        if (i >= 0) this.#queue.splice(i, 1);
        try {
          throwIfAborted(signal, 'waiting for the provider');
        } catch (e) {
          reject(e);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(go);
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#active--;
  }

  async #token(signal: AbortSignal): Promise<void> {
    if (this.#rate <= 0) return;
    for (;;) {
      const now = this.#clock.now();
      this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
      this.#refilledAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#clock.sleep(Math.ceil(((1 - this.#tokens) / this.#rate) * 1000), signal);
    }
  }
}
