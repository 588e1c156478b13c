// Whether this process may create an unprivileged user + mount namespace, the one thing a non-root
// keyway needs to mount RAM that is private to it. The kernel settings that can forbid it are
// named in the error, with their current values, so an admin knows what to change.
import { readFileSync } from 'node:fs';
import { KeywayError } from '../../core/errors.js';
import { run } from '../exec.js';

/** Kernel settings that gate unprivileged user namespaces (absent ones are left out). */
export const USERNS_SETTINGS = [
  ['user.max_user_namespaces', '/proc/sys/user/max_user_namespaces'],
  ['kernel.unprivileged_userns_clone', '/proc/sys/kernel/unprivileged_userns_clone'],
  ['kernel.apparmor_restrict_unprivileged_userns', '/proc/sys/kernel/apparmor_restrict_unprivileged_userns'],
] as const;

export interface UsernsSupport {
  readonly supported: boolean;
  /** `name=value` for every setting this kernel has. */
  readonly settings: readonly string[];
  /** unshare's own complaint when the probe failed. */
  readonly detail?: string;
}

export function usernsSettings(): string[] {
  const out: string[] = [];
  for (const [name, path] of USERNS_SETTINGS) {
    try {
      out.push(`${name}=${readFileSync(path, 'utf8').trim()}`);
    } catch {
      // not on this kernel
    }
  }
  return out;
}

/** Tries the real thing (a user + mount namespace mapping only our own ids): settings alone do not tell about LSMs or seccomp. */
export async function probeUserns(signal?: AbortSignal): Promise<UsernsSupport> {
  const r = await run('unshare', ['--map-current-user', '--mount', '--', 'true'], { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
  const settings = usernsSettings();
  if (r.ok) return { supported: true, settings };
  const detail = r.error === 'ENOENT' ? 'unshare(1) is not installed (util-linux)' : r.stderr.split('\n')[0]?.slice(0, 200) ?? '';
  return { supported: false, settings, detail };
}

export function usernsUnavailableError(s: UsernsSupport, what: string): KeywayError {
  return new KeywayError(
    'failed_precondition',
    `${what} as a non-root user needs an unprivileged user namespace, which this host refuses (${s.detail ?? 'unshare failed'}; ` +
      `${s.settings.length > 0 ? s.settings.join(', ') : 'check user.max_user_namespaces and kernel.unprivileged_userns_clone'}). ` +
      `Allow it (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1), or pass --allow-weak to accept the swappable tmpfs of $XDG_RUNTIME_DIR`,
  );
}
