// Builds the command line that runs a plugin: bare, inside bubblewrap, or as an OCI image through
// podman. The executable is always `/proc/self/fd/3` (see executable.ts) except for images, which
// are pinned by digest instead.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { KeywayError } from '../../core/errors.js';

export const EXEC_FD = 3;
export const EXEC_PATH = `/proc/self/fd/${EXEC_FD}`;
export const BWRAP = '/usr/bin/bwrap';
export const PRLIMIT = '/usr/bin/prlimit';

export interface ResourceLimits {
  /** Open files. */
  readonly nofile?: number;
  /** Processes of the (real) uid; not enforced for root, whose count is system-wide. */
  readonly nproc?: number;
  /** Address space in bytes. Off by default: language runtimes reserve large virtual ranges. */
  readonly asBytes?: number;
  /** CPU seconds (oneshot only: a serve process accumulates CPU over its life). */
  readonly cpuSeconds?: number;
  /** Largest file the plugin may write (its private /tmp). */
  readonly fsizeBytes?: number;
}

export type SandboxSpec =
  | { readonly kind: 'none' }
  | {
      readonly kind: 'bwrap';
      readonly allowNetwork: boolean;
      /** keyway's state dir, key file, db: masked when they sit under a bound system dir. */
      readonly hide: readonly string[];
      /** Extra read-only binds (a runtime the plugin needs). */
      readonly roBinds: readonly string[];
    }
  | {
      readonly kind: 'oci';
      readonly engine: string; // podman | docker (absolute path or name on PATH)
      readonly image: string; // IMAGE@sha256:DIGEST
      readonly runtime?: string;
      readonly allowNetwork: boolean;
    };

export interface Command {
  readonly file: string;
  readonly args: string[];
  /** Whether the executable descriptor must be passed as fd 3. */
  readonly needsExecFd: boolean;
}

const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/etc'];

export function bwrapAvailable(): boolean {
  return existsSync(BWRAP);
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir + '/');
}

export function bwrapArgs(spec: Extract<SandboxSpec, { kind: 'bwrap' }>): string[] {
  const a = ['--unshare-all'];
  if (spec.allowNetwork) a.push('--share-net');
  a.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL');
  for (const d of SYSTEM_DIRS) {
    let st;
    try {
      st = lstatSync(d);
    } catch {
      continue;
    }
    // Debian's merged /usr makes /bin a symlink: recreate the link rather than binding twice.
    if (st.isSymbolicLink()) a.push('--symlink', readlinkSync(d), d);
    else if (st.isDirectory()) a.push('--ro-bind', d, d);
  }
  a.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  // After /tmp, so a bind below /tmp is not hidden by the fresh tmpfs.
  for (const b of spec.roBinds) a.push('--ro-bind', b, b);
  for (const h of spec.hide) {
    const visible = SYSTEM_DIRS.some((d) => under(h, d)) || spec.roBinds.some((d) => under(h, d));
    if (!visible || !existsSync(h)) continue;
    const st = lstatSync(h);
    if (st.isDirectory()) a.push('--tmpfs', h);
    else a.push('--ro-bind', '/dev/null', h);
  }
  // Only /tmp stays writable: the sandbox root is remounted read-only last.
  a.push('--remount-ro', '/', '--chdir', '/tmp', '--setenv', 'TMPDIR', '/tmp');
  return a;
}

export function prlimitArgs(limits: ResourceLimits, isRoot: boolean): string[] {
  const a: string[] = [];
  if (limits.nofile !== undefined) a.push(`--nofile=${limits.nofile}`);
  if (limits.nproc !== undefined && !isRoot) a.push(`--nproc=${limits.nproc}`);
  if (limits.asBytes !== undefined) a.push(`--as=${limits.asBytes}`);
  if (limits.cpuSeconds !== undefined) a.push(`--cpu=${limits.cpuSeconds}`);
  if (limits.fsizeBytes !== undefined) a.push(`--fsize=${limits.fsizeBytes}`);
  a.push('--core=0');
  return a;
}

export function ociArgs(spec: Extract<SandboxSpec, { kind: 'oci' }>, env: Readonly<Record<string, string>>, limits: ResourceLimits): string[] {
  if (!/^[^\s@]+@sha256:[0-9a-f]{64}$/.test(spec.image)) throw new KeywayError('invalid_argument', `OCI image ${JSON.stringify(spec.image)} must be pinned as IMAGE@sha256:DIGEST`);
  const a = ['run', '--rm', '-i', '--pull', 'never', '--read-only', '--cap-drop', 'all', '--security-opt', 'no-new-privileges', '--log-driver', 'none'];
  a.push('--network', spec.allowNetwork ? 'bridge' : 'none');
  if (spec.runtime) a.push('--runtime', spec.runtime);
  a.push('--tmpfs', '/tmp:rw,noexec,nosuid,size=16m');
  // No --ulimit: any explicit one makes podman replace containers.conf default_ulimits with host
  // maxima that a capability-less runc cannot set. The cgroup pids limit bounds processes instead.
  if (limits.nproc !== undefined) a.push('--pids-limit', String(limits.nproc));
  // Values go through the child's environment, not argv: `--env NAME` copies NAME from it.
  for (const k of Object.keys(env)) a.push('--env', k);
  a.push(spec.image);
  return a;
}

/** The program and arguments to spawn for a plugin. */
export function buildCommand(sandbox: SandboxSpec, limits: ResourceLimits, isRoot: boolean, env: Readonly<Record<string, string>>): Command {
  switch (sandbox.kind) {
    case 'none':
      return { file: PRLIMIT, args: [...prlimitArgs(limits, isRoot), '--', EXEC_PATH], needsExecFd: true };
    case 'bwrap':
      return { file: PRLIMIT, args: [...prlimitArgs(limits, isRoot), '--', BWRAP, ...bwrapArgs(sandbox), '--', EXEC_PATH], needsExecFd: true };
    case 'oci':
      return { file: sandbox.engine, args: ociArgs(sandbox, env, limits), needsExecFd: false };
  }
}
