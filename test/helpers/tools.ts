// The one check for host tools: present on PATH, or installed with apt-get when running as root on
// Debian, so a fresh CI machine runs the real tests instead of skipping them. Skip reasons start with
// SKIPPED: and name the package to install.
import { spawnSync } from 'node:child_process';

let updated = false;

/** Whether `tool` is on PATH. */
export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }).status === 0;
}

/**
 * Makes sure every tool is on PATH, installing `pkg` for the missing ones (root + apt-get only).
 * Returns false (with the reason) when something is still missing.
 */
export function ensureTools(needs: readonly (readonly [tool: string, pkg: string])[]): string | false {
  const missing = needs.filter(([tool]) => !hasTool(tool));
  if (missing.length === 0) return false;
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  if (process.geteuid?.() !== 0 || !hasTool('apt-get')) return `SKIPPED: ${missing.map(([t]) => t).join(', ')} not installed and cannot install them here (apt-get install ${pkgs.join(' ')})`;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!updated) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 300_000 });
    updated = true;
  }
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'ignore', env, timeout: 600_000 });
  const still = needs.filter(([tool]) => !hasTool(tool));
  return still.length === 0 ? false : `SKIPPED: apt-get install ${pkgs.join(' ')} did not provide ${still.map(([t]) => t).join(', ')}`;
}

/** False as root, else a skip reason saying why the test needs root. */
export function rootSkipReason(why: string): string | false {
  return process.geteuid?.() === 0 ? false : `SKIPPED: ${why} (run the suite as root)`;
}
