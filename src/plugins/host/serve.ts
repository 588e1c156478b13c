// serve lifecycle: one long-lived process, many concurrent requests matched by id. A crash fails the
// in-flight requests with `unavailable` and the next request starts a new process after a backoff
// (src/core/backoff.ts: 100 ms doubling to 5 s, reset once a process has lived 30 s). A missed deadline kills the
// process: its state is unknown, so it is not trusted with more requests.
import { backoffDelay, type Backoff } from '../../core/backoff.js';
import { KeywayError } from '../../core/errors.js';
import { PLUGIN_GRACE_MS } from '../../core/process/supervise.js';
import type { Frame, FrameHeader } from '../framing.js';
import type { PluginEntry } from '../entry.js';
import { launch, type HostDeps } from './launcher.js';
import { describeExit, type ExitInfo, type PluginProcess } from './process.js';
import { abortError } from './signals.js';

/** No jitter: one client restarts one process, there is no crowd to spread out. */
const RESTART_BACKOFF: Backoff = { baseMs: 100, capMs: 5_000, jitter: 0 };
const HEALTHY_AFTER_MS = 30_000;

interface Pending {
  readonly proc: PluginProcess;
  resolve(f: Frame): void;
  reject(e: KeywayError): void;
}

export class ServeClient {
  readonly #entry: PluginEntry;
  readonly #deps: HostDeps;
  #proc: PluginProcess | undefined;
  #pending = new Map<string, Pending>();
  /** Ids whose caller gave up; a late answer is dropped, not treated as a protocol error. */
  #abandoned = new Set<string>();
  #nextId = 1;
  /** Quick exits in a row; the next restart waits backoffDelay(RESTART_BACKOFF, crashes - 1). */
  #crashes = 0;
  #backoffMs = 0;
  #notBefore = 0;
  #startedAt = 0;
  #closed = false;
  #launches = 0;

  constructor(entry: PluginEntry, deps: HostDeps) {
    this.#entry = entry;
    this.#deps = deps;
  }

  /** Number of processes started so far (tests, metrics). */
  get launches(): number {
    return this.#launches;
  }

  get pid(): number | undefined {
    return this.#proc?.alive ? this.#proc.pid : undefined;
  }

  async request(fields: Omit<FrameHeader, 'id'>, payload: Buffer | undefined, signal: AbortSignal): Promise<Frame> {
    if (this.#closed) throw new KeywayError('unavailable', `plugin ${this.#entry.name} is shut down`);
    if (signal.aborted) throw abortError(this.#entry.name, signal);
    await this.#waitBackoff(signal);
    const proc = this.#ensure();
    const id = String(this.#nextId++);
    return new Promise<Frame>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.#pending.delete(id)) return;
        proc.stderr.end();
        const err = abortError(this.#entry.name, signal);
        if (err.code === 'timeout') proc.kill();
        else this.#abandoned.add(id);
        reject(err);
      };
      this.#pending.set(id, {
        proc,
        resolve: (f) => {
          signal.removeEventListener('abort', onAbort);
          proc.stderr.end();
          resolve(f);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          proc.stderr.end();
          reject(e);
        },
      });
      signal.addEventListener('abort', onAbort, { once: true });
      proc.stderr.begin();
      if (payload) proc.stderr.protect(payload);
      try {
        proc.writeFrame({ ...fields, id }, payload);
      } catch (e) {
        this.#pending.get(id)?.reject(e instanceof KeywayError ? e : new KeywayError('unavailable', `plugin ${this.#entry.name} is not accepting requests`));
        this.#pending.delete(id);
      }
    });
  }

  async #waitBackoff(signal: AbortSignal): Promise<void> {
    const wait = this.#notBefore - Date.now();
    if (wait <= 0 || this.#proc?.accepting) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, wait);
      const onAbort = (): void => {
        clearTimeout(t);
        reject(abortError(this.#entry.name, signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #ensure(): PluginProcess {
    if (this.#proc?.accepting) return this.#proc;
    const proc = launch(this.#entry, this.#deps, { lifecycle: 'serve', stdoutMode: 'frames', onFrame: (f) => this.#onFrame(proc, f) });
    this.#launches++;
    this.#proc = proc;
    this.#startedAt = Date.now();
    this.#abandoned.clear();
    void proc.exited.then((info) => {
      if (this.#proc === proc) this.#proc = undefined;
      const lived = Date.now() - this.#startedAt;
      this.#crashes = lived >= HEALTHY_AFTER_MS ? 0 : this.#crashes + 1;
      this.#backoffMs = this.#crashes === 0 ? 0 : backoffDelay(RESTART_BACKOFF, this.#crashes - 1);
      this.#notBefore = this.#closed ? 0 : Date.now() + this.#backoffMs;
      const err = this.#closed ? new KeywayError('unavailable', `plugin ${this.#entry.name} is shut down`) : describeExit(this.#entry.name, info, proc.stderr.tail());
      for (const [id, p] of [...this.#pending]) {
        if (p.proc !== proc) continue;
        this.#pending.delete(id);
        p.reject(err);
      }
      if (!this.#closed) this.#deps.logger.warn({ plugin: this.#entry.name, code: info.code, signal: info.signal, restartInMs: this.#backoffMs }, 'serve plugin exited');
    });
    return proc;
  }

  #onFrame(proc: PluginProcess, f: Frame): void {
    const id = f.header.id;
    const key = typeof id === 'string' ? id : undefined;
    const p = key === undefined ? undefined : this.#pending.get(key);
    if (key !== undefined && p && p.proc === proc) {
      this.#pending.delete(key);
      p.resolve(f);
      return;
    }
    f.payload.fill(0);
    if (key !== undefined && this.#abandoned.delete(key)) return;
    proc.fail(new KeywayError('internal', `plugin ${this.#entry.name} broke the protocol: response for unknown request id`));
  }

  /**
   * Ends stdin so the plugin exits on its own; kills it after the grace period. Returns how the
   * process ended (a signal means it had to be killed), or undefined when none was running.
   */
  async close(): Promise<ExitInfo | undefined> {
    this.#closed = true;
    const proc = this.#proc;
    if (!proc) return undefined;
    proc.endInput();
    const t = setTimeout(() => proc.kill(), this.#deps.killGraceMs ?? PLUGIN_GRACE_MS);
    const info = await proc.exited;
    clearTimeout(t);
    return info;
  }
}
