// The one backoff: broker retries, serve-plugin restarts and the refresher's interval all take
// their delays from here. Exponential from `baseMs`, doubling per attempt up to `capMs`, then
// spread by ± `jitter` (a fraction) so many callers do not wake in lockstep.

export interface Backoff {
  /** Delay of attempt 0. */
  readonly baseMs: number;
  /** Largest delay before jitter. */
  readonly capMs: number;
  /** Spread as a fraction of the delay, in [0, 1]: 0 none, 1 anywhere in [0, 2 × delay). */
  readonly jitter: number;
}

/** The delay before retry number `attempt` (0-based). `random` returns [0, 1) (tests pin it). */
export function backoffDelay(b: Backoff, attempt: number, random: () => number = Math.random): number {
  const nominal = Math.min(b.capMs, b.baseMs * 2 ** Math.max(0, attempt));
  return Math.max(0, nominal * (1 + b.jitter * (2 * random() - 1)));
}
