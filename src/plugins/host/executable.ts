// Opens a plugin executable and verifies it against its pinned sha256, returning the open
// descriptor. The host then execs `/proc/self/fd/N` in the child (the descriptor is passed down as
// stdio index 3), so the kernel runs the very inode whose bytes were hashed: renaming or replacing
// the path after the check changes nothing. In-place writes to that inode between hash and exec are
// caught by comparing fstat before and after hashing and by refusing group/world-writable files.
import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export interface VerifiedExecutable {
  readonly fd: number;
  readonly realPath: string;
  readonly sha256: string;
  close(): void;
}

/**
 * Enforces `plugin_dir` (Vault's rules, stricter): the dir is absolute and not a symlink, the
 * registered path has no `..`, and the fully resolved executable sits directly inside the dir.
 */
export function checkPluginDir(path: string, pluginDir: string | undefined): string {
  if (!isAbsolute(path)) throw new KeywayError('invalid_argument', `plugin path ${JSON.stringify(path)} must be absolute`);
  if (path.split('/').includes('..')) throw new KeywayError('invalid_argument', `plugin path ${JSON.stringify(path)} must not contain ".."`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    throw toKeywayError(e, `plugin executable ${path}`);
  }
  if (pluginDir === undefined) return real;
  let st: Stats;
  try {
    st = lstatSync(pluginDir);
  } catch (e) {
    throw toKeywayError(e, `plugin_dir ${pluginDir}`);
  }
  if (st.isSymbolicLink()) throw new KeywayError('failed_precondition', `plugin_dir ${pluginDir} is a symlink; it must be a real directory`);
  if (!st.isDirectory()) throw new KeywayError('failed_precondition', `plugin_dir ${pluginDir} is not a directory`);
  const realDir = realpathSync(pluginDir);
  if (dirname(real) !== realDir) {
    throw new KeywayError('permission_denied', `cannot execute ${path}: it resolves to a file outside of plugin_dir ${pluginDir}`);
  }
  return real;
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** Hashes the content behind an open descriptor. */
export function hashFd(fd: number): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    pos += n;
  }
  return h.digest('hex');
}

/** Hashes a file by path (for `register` without --sha256, which pins what is there now). */
export function hashFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY);
  } catch (e) {
    throw toKeywayError(e, `plugin executable ${path}`);
  }
  try {
    return hashFd(fd);
  } finally {
    closeSync(fd);
  }
}

export function constantTimeHexEqual(a: string, b: string): boolean {
  if (!SHA256_RE.test(a) || !SHA256_RE.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

/** Opens, checks and hashes the executable. The caller owns the returned descriptor. */
export function openVerified(path: string, expectedSha256: string, pluginDir?: string): VerifiedExecutable {
  const real = checkPluginDir(path, pluginDir);
  let fd: number;
  try {
    fd = openSync(real, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    throw toKeywayError(e, `plugin executable ${path}`);
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) throw new KeywayError('failed_precondition', `plugin executable ${path} is not a regular file`);
    if ((before.mode & 0o111) === 0) throw new KeywayError('failed_precondition', `plugin executable ${path} is not executable`);
    if ((before.mode & 0o022) !== 0) {
      throw new KeywayError('failed_precondition', `plugin executable ${path} is writable by group or others (mode 0${(before.mode & 0o777).toString(8)}); run chmod go-w`);
    }
    const actual = hashFd(fd);
    const after = fstatSync(fd);
    if (!sameFile(before, after)) throw new KeywayError('checksum_mismatch', `plugin executable ${path} changed while it was being verified`);
    if (!constantTimeHexEqual(actual, expectedSha256)) {
      throw new KeywayError('checksum_mismatch', `plugin executable ${basename(path)}: checksums did not match (pinned ${expectedSha256.slice(0, 12)}..., found ${actual.slice(0, 12)}...)`);
    }
    return {
      fd,
      realPath: real,
      sha256: actual,
      close: () => {
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      },
    };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
