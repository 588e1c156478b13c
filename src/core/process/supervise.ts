// One supervised child process: every process keyway starts (helper tools, plugins, Podman, the
// command of `keyway run`) is spawned, signalled and stopped here, so the rules below hold for all.
//
// - No shell; the caller builds the whole environment (nothing is inherited).
// - By default the child leads its own process group (and session), so a stop reaches everything
//   it started: SIGTERM to the group, SIGKILL after a named grace period if the leader still lives.
// - The group-after-exit rule. A process group's id is its leader's pid. While any member of the
//   group lives, the kernel cannot hand that id to another process, so signalling the group reaches
//   only what the leader left behind. Once every member is gone the id is free and may be reused.
//   Node reaps the leader and reports its exit in the same callback, so keyway sends exactly one
//   SIGKILL to the group right there, when the leader's exit is reported (a reuse would need the
//   whole pid space to wrap around within that callback), and never signals the group after that
//   (no timer and no later stop reaches a group whose leader has been reaped). Callers whose tool may
//   leave a process behind on purpose turn that sweep off (`sweep: false`): rootless Podman's pause
//   process, which holds the user's namespace, stays in the group of the podman command that
//   started it.
// - Without a group (`group: false`, for `keyway run`, whose command stays in the terminal's
//   foreground group for job control) only the leader is signalled, and only until it is reaped.
import type * as ChildProcesses from 'node:child_process';
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { constants as osc } from 'node:os';
import { KeywayError, type ErrorCode } from '../errors.js';

// node:child_process (and the net, dgram and stream modules it loads) on the first spawn: most
// CLI runs and an idle daemon spawn nothing.
const childProcess = (): typeof ChildProcesses => process.getBuiltinModule('node:child_process');

/**
 * Grace for helper tools (pass/gpg, systemd-creds, podman, mount): enough to remove their lock and
 * temporary files on SIGTERM, short because a caller is waiting for the error.
 */
export const TOOL_GRACE_MS = 2_000;
/**
 * Grace for plugins: a plugin keeps no state keyway cares about, and a request (or shutdown) waits
 * on it, so it gets half a second.
 */
export const PLUGIN_GRACE_MS = 500;
/**
 * Grace for the user's command under `keyway run` (stop or restart): a real workload that may
 * flush data on SIGTERM; 10 s as `docker stop` gives a container.
 */
export const COMMAND_GRACE_MS = 10_000;

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Ended extends ExitStatus {
  /** Set when the process could not be started at all (ENOENT, EACCES ...). */
  readonly spawnError?: NodeJS.ErrnoException;
  /** The caller's signal fired while the leader was alive (it was stopped for that). */
  readonly aborted: boolean;
}

export interface SuperviseSpec {
  readonly file: string;
  readonly args: readonly string[];
  /** The whole environment of the child (undefined entries are left out). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  readonly stdio: StdioOptions;
  /** Own process group and session (default true). See the group rule above. */
  readonly group?: boolean;
  /** With a group: SIGKILL it once when the leader exits (default true). See the rule above. */
  readonly sweep?: boolean;
  /** SIGTERM → SIGKILL delay: one of the *_GRACE_MS constants (tests may shorten it). */
  readonly graceMs: number;
  /** Aborting stops the process (SIGTERM, SIGKILL after the grace). */
  readonly signal?: AbortSignal;
}

/** "exited with status N" or "was killed by SIGX", for error messages. */
export function exitPhrase(s: ExitStatus): string {
  return s.signal ? `was killed by ${s.signal}` : `exited with status ${s.code ?? '?'}`;
}

/** The status to exit with after a child ended: its code, or 128 + signal number (the shell's rule). */
export function exitStatusOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal !== null ? osc.signals[signal] : undefined;
  return 128 + (n ?? 0);
}

/**
 * The error for a process that ended badly: `WHAT exited with status N (DETAIL)`. DETAIL is what the
 * caller chose to show (a tool's last stderr line), never stdout, which may carry secret bytes.
 */
export function exitError(code: ErrorCode, what: string, s: ExitStatus, detail = ''): KeywayError {
  return new KeywayError(code, `${what} ${exitPhrase(s)}${detail ? ` (${detail})` : ''}`);
}

export class Supervised {
  readonly child: ChildProcess;
  /** Settles when the leader exited (the group has been swept) or could not start. */
  readonly exited: Promise<Ended>;
  /** Settles after `exited`, once stdout and stderr are closed too. */
  readonly closed: Promise<Ended>;
  /** Settles when the process started, or with the error that kept it from starting. */
  readonly started: Promise<NodeJS.ErrnoException | undefined>;
  readonly #group: boolean;
  readonly #sweep: boolean;
  readonly #graceMs: number;
  readonly #signal: AbortSignal | undefined;
  #alive = true;
  #aborted = false;
  #killTimer: NodeJS.Timeout | undefined;

  constructor(spec: SuperviseSpec) {
    this.#group = spec.group ?? true;
    this.#sweep = this.#group && (spec.sweep ?? true);
    this.#graceMs = spec.graceMs;
    this.#signal = spec.signal;
    const child = childProcess().spawn(spec.file, [...spec.args], {
      stdio: spec.stdio,
      env: definedOnly(spec.env),
      detached: this.#group,
      shell: false,
      ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}),
    });
    this.child = child;
    let spawnError: NodeJS.ErrnoException | undefined;
    let ended: Ended | undefined;
    let onExit!: (e: Ended) => void;
    let onClose!: (e: Ended) => void;
    let onStarted!: (e: NodeJS.ErrnoException | undefined) => void;
    this.exited = new Promise((r) => (onExit = r));
    this.closed = new Promise((r) => (onClose = r));
    this.started = new Promise((r) => (onStarted = r));
    const end = (code: number | null, signal: NodeJS.Signals | null): Ended => {
      if (ended) return ended;
      this.#alive = false;
      if (this.#killTimer) clearTimeout(this.#killTimer);
      this.#signal?.removeEventListener('abort', this.#onAbort);
      ended = { code, signal, aborted: this.#aborted, ...(spawnError ? { spawnError } : {}) };
      onExit(ended);
      return ended;
    };
    child.once('spawn', () => onStarted(undefined));
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Later errors (a signal to a process that is gone) change nothing.
      if (child.pid !== undefined || ended) return;
      spawnError = e;
      onStarted(e);
      // A process that never started emits no 'close' on every Node version: settle here.
      onClose(end(null, null));
    });
    child.once('exit', (code, signal) => {
      // The one group sweep: the leader was reaped in this very callback (see the rule above).
      if (this.#sweep) this.#kill('SIGKILL');
      this.#alive = false;
      end(code, signal);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => onClose(end(code, signal)));
    if (spec.signal) {
      if (spec.signal.aborted) this.#onAbort();
      else spec.signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The leader has not been reaped yet. */
  get alive(): boolean {
    return this.#alive;
  }

  /** stop() was called and the leader has not exited yet. */
  get stopping(): boolean {
    return this.#alive && this.#killTimer !== undefined;
  }

  /** Sends `sig` to the group (or the leader alone without a group), only while the leader lives. */
  signal(sig: NodeJS.Signals): void {
    if (this.#alive) this.#kill(sig);
  }

  /** SIGTERM now, SIGKILL after the grace period if the leader is still alive. Idempotent. */
  stop(): void {
    if (!this.#alive || this.#killTimer !== undefined) return;
    this.#kill('SIGTERM');
    this.#killTimer = setTimeout(() => this.signal('SIGKILL'), this.#graceMs);
    this.#killTimer.unref();
  }

  readonly #onAbort = (): void => {
    if (!this.#alive) return;
    this.#aborted = true;
    this.stop();
  };

  #kill(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      if (this.#group) process.kill(-pid, sig);
      else this.child.kill(sig);
    } catch {
      // the group is already gone
    }
  }
}

function definedOnly(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
