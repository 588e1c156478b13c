// Starts plugin processes for one catalog entry: verify the pinned hash on the open descriptor,
// scrub the environment, wrap in the sandbox, spawn, audit the launch with the verified hash.
import { KeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { ENGINE_PATH } from '../../core/process/engine-env.js';
import { PLUGIN_GRACE_MS } from '../../core/process/supervise.js';
import type { Frame } from '../framing.js';
import type { Lifecycle, PluginEntry } from '../entry.js';
import { openVerified } from './executable.js';
import { PluginProcess } from './process.js';
import { buildCommand, bwrapAvailable, type ResourceLimits, type SandboxSpec } from './sandbox.js';
import { resolveRunAs, type RunAs } from './user.js';

export interface LaunchInfo {
  readonly plugin: string;
  readonly sha256?: string;
  readonly image?: string;
  readonly sandbox: SandboxSpec['kind'];
  readonly pid?: number;
}

export interface HostDeps {
  readonly logger: Logger;
  readonly maxPayloadBytes: number;
  readonly pluginDir?: string;
  /**
   * Paths the plugin must never see: keyway's state dir, database (and its WAL/SHM), key file,
   * config file, runtime dir and sockets. Masked wherever a bind would show them.
   */
  readonly hide: readonly string[];
  readonly isRoot: boolean;
  /** Where verified private copies of plugin executables are made (default /dev/shm). */
  readonly copyDir?: string;
  /** Test seam: called after each chunk of the executable is hashed, with its file offset. */
  readonly onHashChunk?: (pos: number) => void;
  /** Called after every successful spawn (the catalog audits it). */
  readonly onLaunch?: (info: LaunchInfo) => void;
  /** SIGTERM → SIGKILL delay (default PLUGIN_GRACE_MS; tests shorten it). */
  readonly killGraceMs?: number;
  readonly limits?: ResourceLimits;
  /** Container engine for OCI-image plugins (default `podman`). */
  readonly ociEngine?: string;
  /** Extra environment for the container engine itself (CONTAINERS_CONF ...), never for plugins directly. */
  readonly ociEngineEnv?: Readonly<Record<string, string>>;
}

export const DEFAULT_LIMITS: ResourceLimits = { nofile: 256, nproc: 64, fsizeBytes: 16 * 1024 * 1024 };
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function pluginEnv(entry: PluginEntry, lifecycle: Lifecycle): Record<string, string> {
  const env: Record<string, string> = { PATH: '/usr/bin:/bin', LANG: 'C' };
  for (const [k, v] of Object.entries(entry.env)) {
    if (!ENV_KEY_RE.test(k)) throw new KeywayError('invalid_argument', `plugin ${entry.name}: env key ${JSON.stringify(k)} is not a valid variable name`);
    env[k] = v;
  }
  env.KEYWAY_PLUGIN_PROTOCOL = '1';
  env.KEYWAY_PLUGIN_LIFECYCLE = lifecycle;
  env.KEYWAY_PLUGIN_NAME = entry.name;
  return env;
}

/**
 * The uid/gid to switch the plugin to. Only root can switch: a non-root keyway runs plugins as its
 * own user (masking keeps its files out of sight), and refuses an explicit `user` it cannot honour.
 */
export function hostRunAs(entry: PluginEntry, deps: Pick<HostDeps, 'isRoot'>): RunAs | undefined {
  const runAs = resolveRunAs(entry.user, `plugin ${entry.name}`);
  if (deps.isRoot) return runAs;
  const self = process.getuid?.();
  if (entry.user !== undefined && runAs.uid !== self) {
    throw new KeywayError('failed_precondition', `plugin ${entry.name}: user ${JSON.stringify(entry.user)} needs keyway to run as root; remove it to run the plugin as keyway's own user`);
  }
  return undefined;
}

export function sandboxFor(entry: PluginEntry, deps: HostDeps): SandboxSpec {
  if (entry.ociImage !== undefined) {
    if (entry.roBinds.length > 0) throw new KeywayError('invalid_argument', `plugin ${entry.name}: ro_binds are not supported for OCI-image plugins; put the files in the image`);
    return { kind: 'oci', engine: deps.ociEngine ?? 'podman', image: entry.ociImage, allowNetwork: entry.allowNetwork, runAs: resolveRunAs(entry.user, `plugin ${entry.name}`), ...(entry.runtime ? { runtime: entry.runtime } : {}) };
  }
  const runAs = hostRunAs(entry, deps);
  if (!entry.sandbox) return { kind: 'none', ...(runAs ? { runAs } : {}) };
  if (!bwrapAvailable()) {
    throw new KeywayError('failed_precondition', `plugin ${entry.name}: bubblewrap (/usr/bin/bwrap) is not installed; install it (Debian: apt install bubblewrap) or set sandbox = false for this plugin`);
  }
  return { kind: 'bwrap', allowNetwork: entry.allowNetwork, hide: deps.hide, roBinds: entry.roBinds, execPath: '', ...(runAs ? { runAs } : {}) };
}

export interface SpawnOptions {
  readonly lifecycle: Lifecycle;
  readonly stdoutMode: 'frames' | 'raw';
  readonly onFrame?: (frame: Frame) => void;
  /** A oneshot request's signal: aborting kills the process group. */
  readonly signal?: AbortSignal;
}

export function launch(entry: PluginEntry, deps: HostDeps, opts: SpawnOptions): PluginProcess {
  const sandbox = sandboxFor(entry, deps);
  const env = pluginEnv(entry, opts.lifecycle);
  const base = deps.limits ?? DEFAULT_LIMITS;
  const limits: ResourceLimits = opts.lifecycle === 'oneshot' ? { ...base, cpuSeconds: Math.ceil(entry.timeoutMs / 1000) + 1 } : base;
  if (sandbox.kind !== 'oci' && (entry.path === undefined || entry.sha256 === undefined)) throw new KeywayError('failed_precondition', `plugin ${entry.name} has no pinned path and sha256`);
  // Verify (and copy) the executable before building the sandbox, so a refused file opens nothing.
  const exe = sandbox.kind === 'oci' ? undefined : openVerified(entry.path ?? '', entry.sha256 ?? '', deps.pluginDir, deps.copyDir, deps.onHashChunk);
  let command;
  try {
    command = buildCommand(sandbox.kind === 'bwrap' && exe ? { ...sandbox, execPath: exe.realPath } : sandbox, limits, deps.isRoot, env);
  } catch (e) {
    exe?.dispose();
    throw e;
  }
  const common = {
    name: entry.name,
    command,
    logger: deps.logger,
    maxPayloadBytes: deps.maxPayloadBytes,
    killGraceMs: deps.killGraceMs ?? PLUGIN_GRACE_MS,
    stderrHoldMs: entry.timeoutMs + 1000,
    stdoutMode: opts.stdoutMode,
    ...(opts.onFrame ? { onFrame: opts.onFrame } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  if (sandbox.kind === 'oci' || exe === undefined) {
    // The engine gets its own minimal environment; the plugin's variables are forwarded by name.
    const engineEnv = { PATH: ENGINE_PATH, ...(deps.ociEngineEnv ?? {}), ...env };
    // No sweep at the engine's exit: the container runs outside its group, and a rootless podman
    // may have started the pause process that holds the user's namespace in it.
    const p = new PluginProcess({ ...common, env: engineEnv, sweep: false });
    deps.onLaunch?.({ plugin: entry.name, image: entry.ociImage ?? '?', sandbox: 'oci', ...(p.pid !== undefined ? { pid: p.pid } : {}) });
    return p;
  }
  try {
    const p = new PluginProcess({ ...common, env, execFd: exe.fd });
    void p.exited.then(() => exe.dispose());
    deps.onLaunch?.({ plugin: entry.name, sha256: exe.sha256, sandbox: sandbox.kind, ...(p.pid !== undefined ? { pid: p.pid } : {}) });
    return p;
  } catch (e) {
    exe.dispose();
    throw e;
  } finally {
    // The child holds its own copies of the descriptors from here on.
    exe.close();
    command.release();
  }
}
