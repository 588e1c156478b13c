// Builds the command line that runs a plugin: bare, inside bubblewrap, or as an OCI image through
// podman, always as an unprivileged user when keyway is root. What runs is the verified private
// copy passed as fd 3 (see executable.ts): bare, through `/proc/self/fd/3`; in bubblewrap, bound
// over the plugin's own path. Images are pinned by digest instead.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { sandboxView, type SandboxView } from './binds.js';
import type { RunAs } from './user.js';
import { checkOciImageRef } from './oci-image.js';

export const EXEC_FD = 3;
export const EXEC_PATH = `/proc/self/fd/${EXEC_FD}`;
export const BWRAP = '/usr/bin/bwrap';
export const PRLIMIT = '/usr/bin/prlimit';
export const SETPRIV = '/usr/bin/setpriv';
/** First descriptor number used for bind directories passed to bubblewrap. */
const BIND_FD_BASE = EXEC_FD + 1;

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
  | {
      readonly kind: 'none';
      /** Switch to this user before exec (keyway runs as root). */
      readonly runAs?: RunAs;
    }
  | {
      readonly kind: 'bwrap';
      readonly allowNetwork: boolean;
      /** keyway's own files and sockets: masked wherever a bind would show them. */
      readonly hide: readonly string[];
      /** Extra read-only binds (a runtime the plugin needs). */
      readonly roBinds: readonly string[];
      /** Switch to this user inside the sandbox (keyway runs as root). */
      readonly runAs?: RunAs;
      /** The plugin's resolved path: its verified copy (fd 3) is bound there and run from there. */
      readonly execPath: string;
    }
  | {
      readonly kind: 'oci';
      readonly engine: string; // podman | docker (absolute path or name on PATH)
      readonly image: string; // IMAGE@sha256:DIGEST
      readonly runtime?: string;
      readonly allowNetwork: boolean;
      readonly runAs: RunAs;
    };

export interface Command {
  readonly file: string;
  readonly args: string[];
  /** Whether the executable descriptor must be passed as fd 3. */
  readonly needsExecFd: boolean;
  /** Descriptors to pass as fd 4, 5, ... (bind directories for bubblewrap). */
  readonly bindFds: readonly number[];
  /** Closes keyway's copies of `bindFds` (once the child has been spawned). */
  release(): void;
}

export function bwrapAvailable(): boolean {
  return existsSync(BWRAP);
}

/** `setpriv` arguments that drop to `runAs` for good: ids, no groups, no capabilities left. */
export function setprivArgs(runAs: RunAs): string[] {
  return [SETPRIV, `--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups', '--bounding-set=-all', '--inh-caps=-all', '--'];
}

/** `--dir` for each missing ancestor of `dest`, mode 0755 so the unprivileged plugin can reach it. */
function parents(dest: string, made: Set<string>): string[] {
  const chain: string[] = [];
  for (let d = dirname(dest); d !== '/'; d = dirname(d)) chain.unshift(d);
  const a: string[] = [];
  for (const d of chain) {
    if (made.has(d)) continue;
    made.add(d);
    a.push('--perms', '0755', '--dir', d);
  }
  return a;
}

export const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/etc'];

export function bwrapArgs(spec: Extract<SandboxSpec, { kind: 'bwrap' }>, view: SandboxView): string[] {
  // As root, no user namespace: the plugin is switched to a real unprivileged uid by setpriv (a
  // uid inside a user namespace would still be root to the host's files).
  const a = spec.runAs ? ['--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try', ...(spec.allowNetwork ? [] : ['--unshare-net'])] : ['--unshare-all', ...(spec.allowNetwork ? ['--share-net'] : [])];
  a.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL');
  // setpriv needs these three to switch users; it drops every capability before the plugin runs.
  if (spec.runAs) a.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
  const made = new Set<string>();
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
    made.add(d);
  }
  a.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/tmp');
  made.add('/tmp');
  // After /tmp, so a bind below /tmp is not hidden by the fresh tmpfs. The open directory is bound,
  // not its name: what was checked is what the plugin sees.
  let fd = BIND_FD_BASE;
  for (const b of view.binds) {
    if (b.fd === undefined) continue;
    a.push(...parents(b.path, made), '--ro-bind-fd', String(fd++), b.path);
    made.add(b.path);
  }
  for (const m of view.masks) {
    if (m.dir) a.push('--tmpfs', m.dest);
    else a.push('--ro-bind', '/dev/null', m.dest);
  }
  // The verified copy appears under the plugin's own path (scripts and their relative imports
  // resolve as usual), over whatever a bind shows there.
  a.push(...parents(spec.execPath, made), '--ro-bind-fd', String(EXEC_FD), spec.execPath);
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
  checkOciImageRef(spec.image, 'plugin');
  const a = ['run', '--rm', '-i', '--pull', 'never', '--read-only', '--cap-drop', 'all', '--security-opt', 'no-new-privileges', '--log-driver', 'none'];
  a.push('--network', spec.allowNetwork ? 'bridge' : 'none');
  if (spec.runtime) a.push('--runtime', spec.runtime);
  a.push('--user', `${spec.runAs.uid}:${spec.runAs.gid}`);
  a.push('--tmpfs', '/tmp:rw,noexec,nosuid,size=16m');
  // No --ulimit: any explicit one makes podman replace containers.conf default_ulimits with host
  // maxima that a capability-less runc cannot set. The cgroup pids limit bounds processes instead.
  if (limits.nproc !== undefined) a.push('--pids-limit', String(limits.nproc));
  // Values go through the child's environment, not argv: `--env NAME` copies NAME from it.
  for (const k of Object.keys(env)) a.push('--env', k);
  a.push(spec.image);
  return a;
}

const nothing = (): void => undefined;

/** The program and arguments to spawn for a plugin. The caller must call `release()` after spawning. */
export function buildCommand(sandbox: SandboxSpec, limits: ResourceLimits, isRoot: boolean, env: Readonly<Record<string, string>>): Command {
  switch (sandbox.kind) {
    case 'none': {
      const drop = sandbox.runAs ? setprivArgs(sandbox.runAs) : [];
      return { file: PRLIMIT, args: [...prlimitArgs(limits, isRoot), '--', ...drop, EXEC_PATH], needsExecFd: true, bindFds: [], release: nothing };
    }
    case 'bwrap': {
      const view = sandboxView(SYSTEM_DIRS, sandbox.roBinds, sandbox.hide);
      try {
        const drop = sandbox.runAs ? setprivArgs(sandbox.runAs) : [];
        const args = [...prlimitArgs(limits, isRoot), '--', BWRAP, ...bwrapArgs(sandbox, view), '--', ...drop, sandbox.execPath];
        return { file: PRLIMIT, args, needsExecFd: true, bindFds: view.binds.flatMap((b) => (b.fd !== undefined ? [b.fd] : [])), release: view.close };
      } catch (e) {
        view.close();
        throw e;
      }
    }
    case 'oci':
      return { file: sandbox.engine, args: ociArgs(sandbox, env, limits), needsExecFd: false, bindFds: [], release: nothing };
  }
}
