// Per-provider circuit breaker: after `threshold` consecutive transient failures the provider is
// not called for `cooldownMs`; then one trial call decides between closing and reopening.
import { KeywayError } from '../core/errors.js';
import type { Clock } from './clock.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export class CircuitBreaker {
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #name: string;
  #failures = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';
  #trialRunning = false;
  onChange: ((s: BreakerState) => void) | undefined;

  constructor(name: string, clock: Clock, threshold = 5, cooldownMs = 30_000) {
    this.#name = name;
    this.#clock = clock;
    this.#threshold = threshold;
    this.#cooldownMs = cooldownMs;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#cooldownMs) this.#set('half_open');
    return this.#state;
  }

  /** Throws `unavailable` while open; in half-open lets exactly one trial through. */
  enter(): void {
    const s = this.state;
    if (s === 'closed') return;
    if (s === 'half_open' && !this.#trialRunning) {
      this.#trialRunning = true;
      return;
    }
    const wait = Math.max(0, Math.ceil((this.#cooldownMs - (this.#clock.now() - this.#openedAt)) / 1000));
    throw new KeywayError('unavailable', `provider "${this.#name}" is failing; calls are paused (circuit open, retry in ${wait}s)`);
  }

  success(): void {
    this.#trialRunning = false;
    this.#failures = 0;
    if (this.#state !== 'closed') this.#set('closed');
  }

  /** Only transient failures count; a not-found is a healthy backend's answer. */
  failure(transient: boolean): void {
    const wasTrial = this.#trialRunning;
    this.#trialRunning = false;
    if (!transient) {
      if (wasTrial) this.success();
      return;
    }
    this.#failures++;
    if (wasTrial || this.#failures >= this.#threshold) {
      this.#openedAt = this.#clock.now();
      this.#set('open');
    }
  }

  #set(s: BreakerState): void {
    this.#state = s;
    this.onChange?.(s);
  }
}
