// In-memory cache of resolved values (never on disk). Entries keep their value past the TTL for at
// most `maxStale` so a backend outage can be bridged by last-known-good when a provider opts in.
// Values are stored as private copies and handed out as fresh copies: callers zero what they get.
import type { KeywayError } from '../core/errors.js';
import type { SecretValue } from '../core/secret-value.js';
import type { Clock } from './clock.js';

interface Entry {
  value?: SecretValue;
  error?: KeywayError;
  fetchedAt: number;
  freshUntil: number;
  keepUntil: number;
  version?: string;
}

export type CacheHit = { kind: 'fresh'; value: SecretValue; version?: string } | { kind: 'negative'; error: KeywayError };

export class ValueCache {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #maxEntries: number;

  constructor(clock: Clock, maxEntries = 10_000) {
    this.#clock = clock;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** A fresh value (copied) or a cached not-found; undefined when absent or expired. */
  get(key: string): CacheHit | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    const now = this.#clock.now();
    if (now >= e.freshUntil) {
      if (now >= e.keepUntil) this.#drop(key, e);
      return undefined;
    }
    if (e.error) return { kind: 'negative', error: e.error };
    if (!e.value) return undefined;
    return { kind: 'fresh', value: e.value.clone(), ...(e.version !== undefined ? { version: e.version } : {}) };
  }

  /** The last good value if it is at most `maxStaleMs` past its freshness (last-known-good). */
  stale(key: string): { value: SecretValue; ageMs: number } | undefined {
    const e = this.#entries.get(key);
    if (!e?.value) return undefined;
    const now = this.#clock.now();
    if (now >= e.keepUntil) {
      this.#drop(key, e);
      return undefined;
    }
    return { value: e.value.clone(), ageMs: now - e.fetchedAt };
  }

  /** Stores a copy of `value`. */
  put(key: string, value: SecretValue, ttlMs: number, maxStaleMs: number, version?: string): void {
    const now = this.#clock.now();
    if (ttlMs <= 0 && maxStaleMs <= 0) return;
    this.#evictIfFull(key);
    this.#drop(key, this.#entries.get(key));
    this.#entries.set(key, { value: value.clone(), fetchedAt: now, freshUntil: now + ttlMs, keepUntil: now + ttlMs + maxStaleMs, ...(version !== undefined ? { version } : {}) });
  }

  putNegative(key: string, error: KeywayError, ttlMs: number): void {
    if (ttlMs <= 0) return;
    const now = this.#clock.now();
    this.#evictIfFull(key);
    const old = this.#entries.get(key);
    // A not-found must not erase a last-known-good value that is still kept.
    if (old?.value && now < old.keepUntil) return;
    this.#drop(key, old);
    this.#entries.set(key, { error, fetchedAt: now, freshUntil: now + ttlMs, keepUntil: now + ttlMs });
  }

  invalidate(key?: string): void {
    if (key === undefined) {
      for (const [k, e] of this.#entries) this.#drop(k, e);
      return;
    }
    this.#drop(key, this.#entries.get(key));
  }

  #evictIfFull(incoming: string): void {
    if (this.#entries.size < this.#maxEntries || this.#entries.has(incoming)) return;
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#drop(oldest.value, this.#entries.get(oldest.value));
  }

  #drop(key: string, e: Entry | undefined): void {
    if (!e) return;
    e.value?.zero();
    this.#entries.delete(key);
  }
}
