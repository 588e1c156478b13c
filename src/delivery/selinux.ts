// SELinux labelling of delivered files: `container_file_t`, so confined containers may read them,
// plus optional MCS categories per consumer (what Podman's `:Z` does), so one container cannot read
// another's. Skipped when SELinux is not enabled; `keyway doctor` says so.
import { readFileSync } from 'node:fs';
import { KeywayError } from '../core/errors.js';
import { run } from './exec.js';

export type SelinuxMode = 'enforcing' | 'permissive' | 'disabled';

export const CONTAINER_FILE_TYPE = 'container_file_t';
const MCS_RE = /^s0(:c[0-9]{1,4}(,c[0-9]{1,4})*)?$/;

export function selinuxMode(root = '/sys/fs/selinux'): SelinuxMode {
  try {
    return readFileSync(`${root}/enforce`, 'utf8').trim() === '1' ? 'enforcing' : 'permissive';
  } catch {
    return 'disabled';
  }
}

/** Validates a level such as `s0:c12,c345`. */
export function validateMcsLevel(level: string): string {
  if (!MCS_RE.test(level)) throw new KeywayError('invalid_argument', `SELinux level ${JSON.stringify(level.slice(0, 40))} must look like s0:c1,c2`);
  return level;
}

/** Labels `path` recursively, never through a symlink (a consumer may own the set dir and plant one). */
export async function labelContainerFile(path: string, level?: string): Promise<void> {
  const args = ['-R', '-h', '-P', '-t', CONTAINER_FILE_TYPE, ...(level !== undefined ? ['-l', validateMcsLevel(level)] : []), path];
  const r = await run('chcon', args);
  if (!r.ok) throw new KeywayError('failed_precondition', `cannot label ${path} ${CONTAINER_FILE_TYPE}: ${r.error ?? r.stderr.slice(0, 200)}`);
}
