// Rotation: re-resolves the secrets of live mount sets on an interval (with jitter, so many sets
// do not hit a backend in lockstep). It asks the resolver's cheap `version()` first, fetches only
// what changed, compares bytes, and swaps the set atomically only when content really changed;
// then it calls the owner's `onRotate` hook (restart a child, signal it, tell a frontend).
import { backoffDelay } from '../core/backoff.js';
import { KeywayError, toKeywayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { WorkloadIdentity } from '../core/provider.js';
import type { SecretValue } from '../core/secret-value.js';
import type { Resolver } from '../broker/types.js';
import type { MountSet, MountSetFile } from './mount-sets.js';

/** What a refresher needs of a set: a MountSet, or a frontend's stand-in for one in its tests. */
export type RefreshableSet = Pick<MountSet, 'id' | 'released' | 'files' | 'read' | 'update'>;

export interface WatchedFile {
  /** File name in the set. */
  readonly name: string;
  /** NAME or REF to re-resolve. */
  readonly target: string;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** The version token at delivery time, if known (avoids a spurious first rotation). */
  readonly version?: string;
}

export interface WatchOptions {
  /** Time between checks; 0 means no timer: the owner calls refresh() itself. */
  readonly intervalMs: number;
  /** Fraction of the interval to randomise by, ± (default 0.1). */
  readonly jitter?: number;
  readonly identity: WorkloadIdentity;
  /** Called after a successful swap with the names of the files that changed. */
  readonly onRotate?: (changed: readonly string[]) => void | Promise<void>;
  /** Called when a refresh fails; the set keeps its current content (last known good). */
  readonly onError?: (e: KeywayError) => void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const defaultTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface RefresherOptions {
  readonly resolver: Pick<Resolver, 'resolve' | 'version'>;
  readonly logger: Logger;
  readonly timers?: Timers;
  /** [0, 1) random source for jitter (tests pin it). */
  readonly random?: () => number;
}

/** One set kept current by a Refresher. */
export interface Watch {
  readonly set: RefreshableSet;
  readonly stopped: boolean;
  /**
   * One refresh now (also what the timer runs). Resolves to the names that changed. Concurrent
   * calls share one run. Errors are reported through onError and leave the content as it was.
   */
  refresh(): Promise<readonly string[]>;
  /** Stops the timer and cancels an in-flight refresh. Idempotent. */
  stop(): void;
  /** Waits for an in-flight refresh to settle (after stop, for clean shutdowns). */
  settled(): Promise<void>;
}

interface Env {
  readonly resolver: Pick<Resolver, 'resolve' | 'version'>;
  readonly logger: Logger;
  readonly timers: Timers;
  readonly random: () => number;
}

class LiveWatch implements Watch {
  readonly set: RefreshableSet;
  readonly #files: readonly WatchedFile[];
  readonly #opts: WatchOptions;
  readonly #env: Env;
  readonly #onStop: (w: Watch) => void;
  readonly #versions = new Map<string, string>();
  readonly #abort = new AbortController();
  #timer: unknown;
  #running: Promise<readonly string[]> | undefined;
  #stopped = false;

  constructor(env: Env, set: RefreshableSet, files: readonly WatchedFile[], opts: WatchOptions, onStop: (w: Watch) => void) {
    if (!(opts.intervalMs >= 0)) throw new KeywayError('invalid_argument', 'refresh interval must be 0 (no timer) or a positive number of milliseconds');
    const jitter = opts.jitter ?? 0.1;
    if (!(jitter >= 0 && jitter < 1)) throw new KeywayError('invalid_argument', 'refresh jitter must be in [0, 1)');
    this.#env = env;
    this.#onStop = onStop;
    this.set = set;
    this.#files = files;
    this.#opts = opts;
    for (const f of files) if (f.version !== undefined) this.#versions.set(f.name, f.version);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  schedule(): void {
    if (this.#stopped || this.#opts.intervalMs === 0) return;
    const jitter = this.#opts.jitter ?? 0.1;
    const delay = Math.max(1, Math.round(backoffDelay({ baseMs: this.#opts.intervalMs, capMs: this.#opts.intervalMs, jitter }, 0, this.#env.random)));
    this.#timer = this.#env.timers.setTimeout(() => {
      this.#timer = undefined;
      void this.refresh().finally(() => this.schedule());
    }, delay);
  }

  refresh(): Promise<readonly string[]> {
    this.#running ??= this.#refresh().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #refresh(): Promise<readonly string[]> {
    if (this.#stopped || this.set.released) {
      this.stop();
      return [];
    }
    const ctx = { identity: this.#opts.identity, signal: this.#abort.signal };
    const resolver = this.#env.resolver;
    const fresh = new Map<string, { value: SecretValue; version: string; mode?: number; uid?: number; gid?: number }>();
    try {
      const pending: { file: WatchedFile; version: string }[] = [];
      for (const f of this.#files) {
        const v = await resolver.version(f.target, ctx);
        if (this.#versions.get(f.name) !== v) pending.push({ file: f, version: v });
      }
      for (const { file, version } of pending) {
        const r = await resolver.resolve(file.target, { ...ctx, refresh: true });
        const current = this.set.read(file.name);
        try {
          if (current.equals(r.value)) {
            // Same bytes under a new token (e.g. a metadata-only change): no swap needed.
            r.value.zero();
            this.#versions.set(file.name, version);
          } else {
            // A named secret's own delivery defaults apply where the watch sets none, as at delivery.
            fresh.set(file.name, { value: r.value, version: r.version ?? version, ...(r.mode !== undefined ? { mode: r.mode } : {}), ...(r.uid !== undefined ? { uid: r.uid } : {}), ...(r.gid !== undefined ? { gid: r.gid } : {}) });
          }
        } finally {
          current.zero();
        }
      }
      if (fresh.size === 0 || this.#stopped) return [];
      const next: MountSetFile[] = [];
      const spec = new Map(this.set.files.map((s) => [s.name, s]));
      for (const f of this.#files) {
        const s = spec.get(f.name);
        const got = fresh.get(f.name);
        const value = got?.value ?? this.set.read(f.name);
        next.push({ name: f.name, bytes: value, mode: f.mode ?? got?.mode ?? s?.mode, uid: f.uid ?? got?.uid ?? s?.uid, gid: f.gid ?? got?.gid ?? s?.gid });
      }
      try {
        await this.set.update(next);
      } finally {
        for (const n of next) n.bytes.zero();
      }
      for (const [name, { version }] of fresh) this.#versions.set(name, version);
      const changed = [...fresh.keys()];
      this.#env.logger.info({ set: this.set.id, files: changed }, 'mount set rotated');
      if (this.#opts.onRotate) {
        try {
          await this.#opts.onRotate(changed);
        } catch (e) {
          this.#report(toKeywayError(e, 'rotation hook'));
        }
      }
      return changed;
    } catch (e) {
      for (const { value } of fresh.values()) value.zero();
      const err = toKeywayError(e, `refreshing mount set ${this.set.id}`);
      if (!this.#stopped) this.#report(err);
      return [];
    }
  }

  #report(e: KeywayError): void {
    this.#env.logger.warn({ set: this.set.id, code: e.code, err: e.message }, 'mount set refresh failed; keeping the current content');
    this.#opts.onError?.(e);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== undefined) this.#env.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abort.abort(new KeywayError('cancelled', 'refresh stopped'));
    this.#onStop(this);
  }

  async settled(): Promise<void> {
    await this.#running;
  }
}

export class Refresher {
  readonly #env: Env;
  readonly #watches = new Set<Watch>();

  constructor(opts: RefresherOptions) {
    this.#env = { resolver: opts.resolver, logger: opts.logger, timers: opts.timers ?? defaultTimers, random: opts.random ?? Math.random };
  }

  /** Starts refreshing `files` of `set` every `intervalMs` (± jitter; 0: only when refresh() is called). */
  watch(set: RefreshableSet, files: readonly WatchedFile[], opts: WatchOptions): Watch {
    const w = new LiveWatch(this.#env, set, files, opts, (done) => this.#watches.delete(done));
    this.#watches.add(w);
    w.schedule();
    return w;
  }

  async stopAll(): Promise<void> {
    const all = [...this.#watches];
    for (const w of all) w.stop();
    await Promise.all(all.map((w) => w.settled()));
  }
}
