// Opens a plugin executable, checks who could have changed it (trust.ts), and copies its bytes
// into a private unnamed file while hashing them; the copy is what runs. The host execs
// `/proc/self/fd/3` in the child (the copy's descriptor passed down as stdio index 3), so the kernel
// (and, for a `#!` script, the interpreter, which is handed that same path) reads exactly the bytes
// that were hashed: renaming, replacing or rewriting the original afterwards changes nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, constants as fsc, fchmodSync, fstatSync, lstatSync, openSync, readSync, realpathSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import { checkFileTrust, checkParentDirs } from './trust.js';

/** Linux's O_TMPFILE (not exported by Node): an unnamed file no other process can open by name. */
const O_TMPFILE = 0o20000000 | fsc.O_DIRECTORY;
/** Where private copies live: a tmpfs, so the copy never reaches disk. */
export const DEFAULT_COPY_DIR = '/dev/shm';

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

/**
 * Checks owner, mode and parent directories of a resolved plugin path, then hashes it (`register`
 * pins what is there now, and refuses what it would refuse to run).
 */
export function hashTrustedFile(realPath: string): string {
  checkParentDirs(realPath);
  let fd: number;
  try {
    fd = openSync(realPath, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    throw toKeywayError(e, `plugin executable ${realPath}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeywayError('failed_precondition', `plugin executable ${realPath} is not a regular file`);
    checkFileTrust(realPath, st);
    return hashFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** Hashes a file by path, with no trust checks (tests, and `plugin test` on a candidate). */
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

/**
 * Copies the content behind `src` into a new unnamed file in `dir`, hashing exactly the bytes
 * written. Returns a read-only descriptor of the copy (no writable descriptor survives, so it can
 * be executed) and the hash.
 */
function privateCopy(src: number, dir: string, what: string): { fd: number; sha256: string } {
  let rw: number;
  try {
    rw = openSync(dir, O_TMPFILE | fsc.O_RDWR, 0o500);
  } catch (e) {
    throw toKeywayError(e, `cannot make a private copy of ${what} in ${dir}`);
  }
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(64 * 1024);
    let pos = 0;
    for (;;) {
      const n = readSync(src, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      let off = 0;
      while (off < n) off += writeSync(rw, buf, off, n - off, pos + off);
      pos += n;
    }
    // Readable and executable by the plugin's unprivileged user; nobody can open it by name.
    fchmodSync(rw, 0o555);
    const ro = openSync(`/proc/self/fd/${rw}`, fsc.O_RDONLY);
    return { fd: ro, sha256: h.digest('hex') };
  } finally {
    closeSync(rw);
  }
}

/**
 * Opens, checks and copies the executable; the returned descriptor is the verified private copy.
 * The caller owns it.
 */
export function openVerified(path: string, expectedSha256: string, pluginDir?: string, copyDir: string = DEFAULT_COPY_DIR): VerifiedExecutable {
  const real = checkPluginDir(path, pluginDir);
  checkParentDirs(real);
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
    checkFileTrust(real, before);
    const copy = privateCopy(fd, copyDir, `plugin executable ${path}`);
    const after = fstatSync(fd);
    const bad = !sameFile(before, after)
      ? new KeywayError('checksum_mismatch', `plugin executable ${path} changed while it was being verified`)
      : !constantTimeHexEqual(copy.sha256, expectedSha256)
        ? new KeywayError('checksum_mismatch', `plugin executable ${basename(path)}: checksums did not match (pinned ${expectedSha256.slice(0, 12)}..., found ${copy.sha256.slice(0, 12)}...)`)
        : undefined;
    if (bad) {
      closeSync(copy.fd);
      throw bad;
    }
    return {
      fd: copy.fd,
      realPath: real,
      sha256: copy.sha256,
      close: () => {
        try {
          closeSync(copy.fd);
        } catch {
          // already closed
        }
      },
    };
  } finally {
    closeSync(fd);
  }
}
