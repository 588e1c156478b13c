// `keyway run` as a non-root user. Only root may mount a tmpfs in the initial namespaces, so a
// non-root keyway re-executes itself in a fresh user + mount namespace that maps only its own uid
// and gid to themselves (`unshare --map-current-user`), keeping the namespace's capabilities as
// ambient ones. There it mounts a private ramfs (the kernel refuses tmpfs `noswap` outside the
// initial namespace) as the mount root, and runs the command through setpriv with every
// capability dropped: the command keeps the user's real uid/gid and cannot unmount or remount
// anything. The mount exists only in that namespace, so it vanishes with its last process; the
// store record of a SIGKILLed run is swept by the next start like any orphan.
import { readFileSync } from 'node:fs';
import { reexecSelf } from './reexec.js';
import { probeUserns, usernsUnavailableError } from './support.js';

/** Set by the outer keyway for the re-executed one; checked against the real uid map. */
export const RUN_USERNS_ENV = 'KEYWAY_RUN_USERNS';
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

export type RunIsolation =
  /** Root: mount in the host namespaces as before. */
  | { readonly kind: 'host' }
  /** Inside the private namespace: mount the root, drop capabilities for the command. */
  | { readonly kind: 'namespace' }
  /** Non-root without a namespace: the runtime dir's own filesystem (the user opted in). */
  | { readonly kind: 'weak' }
  /** Non-root outside the namespace: re-execute into it and exit with its status. */
  | { readonly kind: 'reexec'; run(): Promise<number> };

/** Whether this process is the re-executed one: our ids mapped to themselves, one id each. */
export function inRunNamespace(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env[RUN_USERNS_ENV] !== '1') return false;
  const self = (file: string, id: number | undefined): boolean => {
    try {
      const f = readFileSync(file, 'utf8').trim().split(/\s+/);
      return f.length === 3 && f[0] === String(id) && f[1] === String(id) && f[2] === '1';
    } catch {
      return false;
    }
  };
  return self('/proc/self/uid_map', process.getuid?.()) && self('/proc/self/gid_map', process.getgid?.());
}

export async function planRunIsolation(opts: { readonly allowWeak: boolean; readonly signal?: AbortSignal }): Promise<RunIsolation> {
  if (process.geteuid?.() === 0) return { kind: 'host' };
  if (inRunNamespace()) {
    // The command must not learn that it was re-executed.
    delete process.env[RUN_USERNS_ENV];
    return { kind: 'namespace' };
  }
  delete process.env[RUN_USERNS_ENV];
  const support = await probeUserns(opts.signal);
  if (!support.supported) {
    if (opts.allowWeak) return { kind: 'weak' };
    throw usernsUnavailableError(support, 'keyway run');
  }
  return { kind: 'reexec', run: () => reexec() };
}

/** The command line that runs `file args` with no capabilities left (ambient, inheritable, bounding). */
export function withoutCapabilities(file: string, args: readonly string[]): { file: string; args: string[] } {
  return { file: 'setpriv', args: ['--inh-caps=-all', '--ambient-caps=-all', '--bounding-set=-all', '--', file, ...args] };
}

/** The private namespace: only our own ids mapped, capabilities kept as ambient ones. */
function reexec(): Promise<number> {
  return reexecSelf('unshare', ['--map-current-user', '--mount', '--propagation', 'private', '--keep-caps'], { [RUN_USERNS_ENV]: '1' }, FORWARDED);
}
