// How the broker treats one provider: caching, timeouts, retries, limits, breaker, last-known-good.
// Defaults come from `[broker]`; `[providers.NAME]` may override any of them; `?ttl=` overrides
// the TTL for one reference.
import { KeywayError } from '../core/errors.js';

export interface ProviderPolicy {
  readonly ttlMs: number;
  readonly negativeTtlMs: number;
  /** Opt-in last-known-good: serve a value up to this long past its TTL while the backend is down. */
  readonly maxStaleMs: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly concurrency: number;
  readonly ratePerSecond: number;
  readonly breakerThreshold: number;
  readonly breakerCooldownMs: number;
}

/** Longest mean retry delay: a few retries fit in the whole-call deadline anyway. */
export const RETRY_BACKOFF_CAP_MS = 5_000;

export const DEFAULT_POLICY: ProviderPolicy = {
  ttlMs: 30_000,
  negativeTtlMs: 5_000,
  maxStaleMs: 0,
  timeoutMs: 10_000,
  retries: 2,
  // Mean delay of the first retry; full jitter spreads it over [0, 100 ms), doubling per retry.
  backoffMs: 50,
  concurrency: 16,
  ratePerSecond: 0,
  breakerThreshold: 5,
  breakerCooldownMs: 30_000,
};

/** The config keys (in `[broker]` and `[providers.NAME]`) that map onto a policy. */
export const POLICY_KEYS = ['cache_ttl', 'negative_ttl', 'max_stale', 'timeout', 'retries', 'concurrency', 'rate_per_second', 'breaker_threshold', 'breaker_cooldown'] as const;
export type PolicyKey = (typeof POLICY_KEYS)[number];

/** Parses `30`, `30s`, `5m`, `1h`, `250ms` into milliseconds; bare numbers are seconds. */
export function parseDuration(text: string | number, what: string): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new KeywayError('invalid_argument', `${what}: expected a non-negative duration`);
    return Math.round(text * 1000);
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new KeywayError('invalid_argument', `${what}: expected a duration such as 30s, 5m or 250ms`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000));
}

export function policyFrom(base: ProviderPolicy, raw: Partial<Record<PolicyKey, string | number>>, where: string): ProviderPolicy {
  const num = (k: PolicyKey, min: number): number | undefined => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new KeywayError('invalid_argument', `${where}.${k}: expected an integer ≥ ${min}`);
    return v;
  };
  const dur = (k: PolicyKey): number | undefined => (raw[k] === undefined ? undefined : parseDuration(raw[k], `${where}.${k}`));
  return {
    ttlMs: dur('cache_ttl') ?? base.ttlMs,
    negativeTtlMs: dur('negative_ttl') ?? base.negativeTtlMs,
    maxStaleMs: dur('max_stale') ?? base.maxStaleMs,
    timeoutMs: dur('timeout') ?? base.timeoutMs,
    retries: num('retries', 0) ?? base.retries,
    backoffMs: base.backoffMs,
    concurrency: num('concurrency', 1) ?? base.concurrency,
    ratePerSecond: num('rate_per_second', 0) ?? base.ratePerSecond,
    breakerThreshold: num('breaker_threshold', 1) ?? base.breakerThreshold,
    breakerCooldownMs: dur('breaker_cooldown') ?? base.breakerCooldownMs,
  };
}
