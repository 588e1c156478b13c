// Rootless Podman keeps its storage mounts in its own user + mount namespace, held open by a
// "podman pause" process. A volume plugin's path must exist in that namespace, so a non-root
// `keyway serve` joins it (nsenter by the pause process's pid) and mounts its ramfs root there.
// In that namespace the user's uid appears as 0; hostUid() gives back the real one, so keyway
// still picks the user's locations and non-root defaults.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError } from '../../core/errors.js';
import { runCaptured } from '../../core/process/capture.js';
import { ENGINE_PATH, engineEnv } from '../../core/process/engine-env.js';
import { isSameProcessAlive, processStartTime } from '../process-identity.js';

/** Set by the outer `keyway serve` to the pause process's pid; checked against real namespaces. */
export const PODMAN_NS_ENV = 'KEYWAY_PODMAN_NS';
const PAUSE_COMM = 'podman pause';

export interface PodmanNamespace {
  readonly pausePid: number;
  readonly pauseStart: number | undefined;
  /** `user:[inode]` and `mnt:[inode]` of the namespaces. */
  readonly userNs: string;
  readonly mntNs: string;
}

function nsLink(pid: number | 'self', ns: 'user' | 'mnt'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${ns}`);
  } catch {
    return undefined;
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function describe(pid: number): PodmanNamespace | undefined {
  const userNs = nsLink(pid, 'user');
  const mntNs = nsLink(pid, 'mnt');
  if (userNs === undefined || mntNs === undefined) return undefined;
  return { pausePid: pid, pauseStart: processStartTime(pid), userNs, mntNs };
}

/** The namespace this process joined as `keyway serve`, when the marker and the kernel agree. */
export function joinedPodmanNamespace(env: Readonly<Record<string, string | undefined>> = process.env): PodmanNamespace | undefined {
  const v = env[PODMAN_NS_ENV];
  if (v === undefined || !/^[1-9][0-9]{0,9}$/.test(v)) return undefined;
  const ns = describe(Number(v));
  if (ns === undefined || nsLink('self', 'user') !== ns.userNs || nsLink('self', 'mnt') !== ns.mntNs) return undefined;
  return ns;
}

/** The uid this process has on the host: inside Podman's namespace, the outer id that 0 maps to. */
export function hostUid(): number {
  const uid = process.getuid?.() ?? 1000;
  if (uid !== 0 || joinedPodmanNamespace() === undefined) return uid;
  try {
    for (const line of readFileSync('/proc/self/uid_map', 'utf8').trim().split('\n')) {
      const [inner, outer] = line.trim().split(/\s+/);
      if (inner === '0' && outer !== undefined) return Number(outer);
    }
  } catch {
    // fall through
  }
  return uid;
}

/** Whether the pause process that holds the namespace is still the same process. */
export function podmanNamespaceAlive(ns: PodmanNamespace): boolean {
  return isSameProcessAlive(ns.pausePid, ns.pauseStart) && nsLink(ns.pausePid, 'user') === ns.userNs;
}

async function podman(args: readonly string[], signal?: AbortSignal): Promise<{ ok: boolean; missing: boolean; stdout: string; stderr: string }> {
  // Only the engine's own settings (XDG_RUNTIME_DIR, HOME, CONTAINERS_CONF ...) and the user's PATH
  // (conmon, runtimes, newuidmap): keyway's environment may hold provider credentials, and the
  // pause process `podman unshare` may start keeps its environment for as long as it lives.
  const env = { PATH: process.env.PATH ?? ENGINE_PATH, ...engineEnv(process.env) };
  try {
    // No sweep: the pause process `podman unshare` may start stays in this podman's group.
    const r = await runCaptured({ file: 'podman', args, env, timeoutMs: 120_000, maxStdout: 1 << 20, where: "rootless Podman's namespace", sweep: false, ...(signal ? { signal } : {}) });
    const stdout = r.stdout.toString('utf8');
    return { ok: r.code === 0, missing: false, stdout, stderr: r.stderr.trim() };
  } catch (e) {
    // Not started, too slow, cancelled or too much output: "podman unshare failed" with the reason.
    const missing = e instanceof KeywayError && (e.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
    return { ok: false, missing, stdout: '', stderr: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Finds (and, through `podman unshare`, creates if needed) the rootless Podman namespace of this
 * user. Undefined when Podman is not installed. The pause process is found by its pid file, else
 * by scanning this user's processes for one named "podman pause" in exactly those namespaces.
 */
export async function findPodmanNamespace(signal?: AbortSignal): Promise<PodmanNamespace | undefined> {
  const r = await podman(['unshare', 'readlink', '/proc/self/ns/user', '/proc/self/ns/mnt'], signal);
  if (r.missing) return undefined;
  if (!r.ok) throw new KeywayError('failed_precondition', `rootless Podman's namespace is not usable ("podman unshare" failed: ${r.stderr.split('\n').at(-1)?.slice(0, 300) ?? ''})`);
  const [userNs, mntNs] = r.stdout.trim().split('\n');
  const matches = (pid: number): boolean => comm(pid) === PAUSE_COMM && nsLink(pid, 'user') === userNs && nsLink(pid, 'mnt') === mntNs;
  const candidates: number[] = [];
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime) {
    try {
      candidates.push(Number(readFileSync(join(runtime, 'libpod', 'tmp', 'pause.pid'), 'utf8').trim()));
    } catch {
      // not there: scan
    }
  }
  for (const pid of candidates) if (Number.isInteger(pid) && pid > 0 && matches(pid)) return describe(pid);
  for (const e of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(e)) continue;
    const pid = Number(e);
    if (matches(pid)) return describe(pid);
  }
  throw new KeywayError('failed_precondition', `rootless Podman's pause process (namespaces ${userNs ?? '?'}, ${mntNs ?? '?'}) was not found`);
}
