// `keyway run`: resolves secrets into a private mount set, runs CMD with CREDENTIALS_DIRECTORY
// pointing at it (env injection only for explicit --env), forwards signals, exits with CMD's
// status (128+N when CMD dies of signal N), and releases the set on every exit path. A SIGKILL of
// keyway itself leaves a recorded set that the next keyway start sweeps.
import type { ChildProcess } from 'node:child_process';
import { KeywayError, toKeywayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { COMMAND_GRACE_MS, exitStatusOf, Supervised } from '../core/process/supervise.js';
import type { WorkloadIdentity } from '../core/provider.js';
import type { Resolved, Resolver } from '../broker/types.js';
import type { MountSet, MountSetFile, MountSetManager } from './mount-sets.js';
import { Refresher, type Watch, type WatchedFile } from './refresher.js';
import { defaultFileName, type EnvSpec, type SecretSpec, type WatchMode } from './run-spec.js';

export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
/** Consumer prefix of `keyway run`'s mount sets (its orphan sweep touches only these). */
export const RUN_CONSUMER_PREFIX = 'run:';

export interface RunProcessOptions {
  readonly resolver: Resolver;
  readonly manager: MountSetManager;
  readonly logger: Logger;
  readonly secrets: readonly SecretSpec[];
  readonly env?: readonly EnvSpec[];
  readonly command: string;
  readonly args?: readonly string[];
  /** The environment CMD inherits (a snapshot from the composition root). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  /** File mode when neither --secret nor the named secret sets one (config delivery.default_mode). */
  readonly defaultMode?: number;
  readonly watch?: { readonly mode: WatchMode; readonly intervalMs: number; readonly jitter?: number };
  readonly signal?: AbortSignal;
  /** Where forwarded signals come from (default: this process). */
  readonly signalSource?: NodeJS.EventEmitter;
  readonly stdio?: 'inherit' | 'ignore' | 'pipe';
  /** Called with the mount set once it exists (tests, diagnostics). */
  readonly onReady?: (set: MountSet, child: ChildProcess) => void;
}

interface Prepared {
  readonly files: MountSetFile[];
  readonly watched: WatchedFile[];
  readonly envValues: Record<string, string>;
}

async function prepare(opts: RunProcessOptions, identity: WorkloadIdentity, signal: AbortSignal): Promise<Prepared> {
  const files: MountSetFile[] = [];
  const watched: WatchedFile[] = [];
  const envValues: Record<string, string> = {};
  const names = new Set<string>();
  const resolved: Resolved[] = await opts.resolver.resolveMany(
    opts.secrets.map((s) => s.target),
    { identity, signal },
  );
  try {
    for (const [i, spec] of opts.secrets.entries()) {
      const r = resolved[i] as Resolved;
      const name = spec.file ?? (r.name !== undefined && !spec.target.startsWith('ref+') ? r.name : defaultFileName(spec.target));
      if (names.has(name)) throw new KeywayError('invalid_argument', `--secret: two secrets would both be written as ${JSON.stringify(name)}; set target= on one`);
      names.add(name);
      const mode = spec.mode ?? r.mode ?? opts.defaultMode;
      const uid = spec.uid ?? r.uid;
      const gid = spec.gid ?? r.gid;
      const meta = { name, ...(mode !== undefined ? { mode } : {}), ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) };
      files.push({ ...meta, bytes: r.value });
      watched.push({ ...meta, target: spec.target, ...(r.version !== undefined ? { version: r.version } : {}) });
    }
    const env = opts.env ?? [];
    const values = await opts.resolver.resolveMany(
      env.map((e) => e.target),
      { identity, signal },
    );
    try {
      for (const [i, e] of env.entries()) {
        const r = values[i] as Resolved;
        if (r.value.expose().includes(0)) throw new KeywayError('invalid_argument', `--env ${e.variable}: the secret contains a NUL byte and cannot be an environment variable; use --secret`);
        envValues[e.variable] = r.value.expose().toString('utf8');
      }
    } finally {
      for (const r of values) r.value.zero();
    }
  } catch (err) {
    for (const r of resolved) r.value.zero();
    throw err;
  }
  return { files, watched, envValues };
}

function childEnv(base: Readonly<Record<string, string | undefined>>, dir: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  env.CREDENTIALS_DIRECTORY = dir;
  return Object.assign(env, extra);
}

/**
 * Starts CMD in keyway's process group, not one of its own: it stays in the terminal's foreground
 * group so job control and Ctrl-C work. Signals keyway gets are forwarded to CMD alone.
 */
async function spawnChild(opts: RunProcessOptions, env: Record<string, string>): Promise<Supervised> {
  const child = new Supervised({ file: opts.command, args: opts.args ?? [], env, stdio: opts.stdio ?? 'inherit', group: false, graceMs: COMMAND_GRACE_MS });
  const e = await child.started;
  if (e === undefined) return child;
  if (e.code === 'ENOENT') throw new KeywayError('not_found', `command ${JSON.stringify(opts.command.slice(0, 200))} not found`);
  if (e.code === 'EACCES') throw new KeywayError('permission_denied', `command ${JSON.stringify(opts.command.slice(0, 200))} is not executable`);
  throw toKeywayError(e, `cannot start ${JSON.stringify(opts.command.slice(0, 200))}`);
}

/** SIGTERM, then SIGKILL after the grace period; resolves once CMD has exited. */
async function stopChild(child: Supervised): Promise<void> {
  child.stop();
  await child.exited;
}

/** Runs CMD and resolves to the exit status keyway should exit with. */
export async function runProcess(opts: RunProcessOptions): Promise<number> {
  const identity: WorkloadIdentity = { frontend: 'run', consumer: `pid:${process.pid}` };
  const signal = opts.signal ?? new AbortController().signal;
  const prepared = await prepare(opts, identity, signal);
  let set: MountSet;
  try {
    set = await opts.manager.create(`${RUN_CONSUMER_PREFIX}${process.pid}`, prepared.files);
  } finally {
    for (const f of prepared.files) f.bytes.zero();
  }
  const source = opts.signalSource ?? process;
  let child: Supervised | undefined;
  let watch: Watch | undefined;
  let restarting: Promise<void> | undefined;
  const forward = new Map<NodeJS.Signals, () => void>();
  try {
    const env = childEnv(opts.baseEnv, set.dir, prepared.envValues);
    child = await spawnChild(opts, env);
    for (const sig of FORWARDED_SIGNALS) {
      const handler = (): void => {
        child?.signal(sig);
      };
      forward.set(sig, handler);
      source.on(sig, handler);
    }
    opts.onReady?.(set, child.child);

    if (opts.watch) {
      const mode = opts.watch.mode;
      const refresher = new Refresher({ resolver: opts.resolver, logger: opts.logger });
      watch = refresher.watch(set, prepared.watched, {
        intervalMs: opts.watch.intervalMs,
        ...(opts.watch.jitter !== undefined ? { jitter: opts.watch.jitter } : {}),
        identity,
        onRotate: async () => {
          const current = child;
          if (current === undefined) return;
          if (mode.kind === 'signal') {
            current.signal(mode.signal);
            return;
          }
          restarting = (async () => {
            await stopChild(current);
            child = await spawnChild(opts, env);
            opts.logger.info({ pid: child.pid }, 'restarted the command after a rotation');
          })();
          try {
            await restarting;
          } finally {
            restarting = undefined;
          }
        },
      });
    }

    // The command's exit ends the run, unless it exited because a rotation is restarting it.
    for (;;) {
      const running: Supervised = child;
      const result = await running.exited;
      if (restarting !== undefined) {
        await restarting.catch(() => undefined);
        if (child !== running) continue;
      }
      return exitStatusOf(result.code, result.signal);
    }
  } finally {
    watch?.stop();
    await watch?.settled();
    for (const [sig, handler] of forward) source.off(sig, handler);
    if (child?.alive) await stopChild(child);
    try {
      set.release();
    } catch (e) {
      opts.logger.error({ set: set.id, err: toKeywayError(e).message }, 'releasing the mount set failed');
    }
  }
}

