// Opens a plugin executable, checks who could have changed it (trust.ts), and copies its bytes
// into a private unnamed file while hashing them; the copy is what runs. The host execs
// `/proc/self/fd/3` in the child (the copy's descriptor passed down as stdio index 3), so the kernel
// (and, for a `#!` script, the interpreter, which is handed that same path) reads exactly the bytes
// that were hashed: renaming, replacing or rewriting the original afterwards changes nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, constants as fsc, fchmodSync, mkdtempSync, readdirSync, rmSync, fstatSync, lstatSync, openSync, readSync, realpathSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import { checkFileTrust, checkParentDirs } from './trust.js';

/** Where private copies live: a tmpfs, so the copy never reaches disk. */
export const DEFAULT_COPY_DIR = '/dev/shm';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export interface VerifiedExecutable {
  readonly fd: number;
  readonly realPath: string;
  readonly sha256: string;
  /** The verified private copy (what runs; bound over `realPath` inside the sandbox). */
  readonly copyPath: string;
  /** Closes the descriptor. */
  close(): void;
  /** Removes the private copy (once the process that runs it has exited). */
  dispose(): void;
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

/** Hashes the content behind an open descriptor, handing each chunk hashed to `each` too. */
export function hashFd(fd: number, each?: (chunk: Buffer, pos: number) => void): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    h.update(buf.subarray(0, n));
    each?.(buf.subarray(0, n), pos);
    pos += n;
  }
  return h.digest('hex');
}

/**
 * Checks the parent directories of a resolved plugin path, opens it without following a final
 * symlink and checks owner and mode on the open file. The caller owns the descriptor.
 */
function openTrusted(realPath: string, shown: string): { fd: number; st: Stats } {
  checkParentDirs(realPath);
  let fd: number;
  try {
    fd = openSync(realPath, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    throw toKeywayError(e, `plugin executable ${shown}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeywayError('failed_precondition', `plugin executable ${shown} is not a regular file`);
    checkFileTrust(realPath, st);
    return { fd, st };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Checks owner, mode and parent directories of a resolved plugin path, then hashes it (`register`
 * pins what is there now, and refuses what it would refuse to run).
 */
export function hashTrustedFile(realPath: string): string {
  const { fd } = openTrusted(realPath, realPath);
  try {
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

const COPY_PREFIX = 'keyway-plugin-';
const COPY_RE = new RegExp(`^${COPY_PREFIX}(\\d+)-`);

/** Removes copies left by keyway processes that died before their plugins exited. */
function sweepStaleCopies(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const me = process.getuid?.();
  for (const n of names) {
    const m = COPY_RE.exec(n);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      if (lstatSync(join(dir, n)).uid !== me) continue;
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, n), { recursive: true, force: true });
    }
  }
}

/**
 * Copies the content behind `src` into a new file, under its own name, in a fresh directory only
 * keyway can write (0711), hashing exactly the bytes written. Returns a read-only descriptor of the
 * copy (no writable descriptor survives, so it can be executed), its path and the hash.
 */
function privateCopy(src: number, dir: string, name: string, what: string, onChunk?: (pos: number) => void): { fd: number; path: string; sha256: string } {
  sweepStaleCopies(dir);
  let home: string;
  try {
    home = mkdtempSync(join(dir, `${COPY_PREFIX}${process.pid}-`));
    chmodSync(home, 0o711);
  } catch (e) {
    throw toKeywayError(e, `cannot make a private copy of ${what} in ${dir}`);
  }
  const path = join(home, name);
  try {
    const rw = openSync(path, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY | fsc.O_NOFOLLOW, 0o600);
    let sha256: string;
    try {
      sha256 = hashFd(src, (chunk, pos) => {
        let off = 0;
        while (off < chunk.length) off += writeSync(rw, chunk, off, chunk.length - off, pos + off);
        onChunk?.(pos);
      });
      // Readable and executable by the plugin's unprivileged user, writable by no one.
      fchmodSync(rw, 0o555);
    } finally {
      closeSync(rw);
    }
    return { fd: openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW), path, sha256 };
  } catch (e) {
    rmSync(home, { recursive: true, force: true });
    throw toKeywayError(e, `cannot make a private copy of ${what}`);
  }
}

/**
 * Opens, checks and copies the executable; the returned descriptor is the verified private copy.
 * The caller owns it.
 */
export function openVerified(path: string, expectedSha256: string, pluginDir?: string, copyDir: string = DEFAULT_COPY_DIR, onChunk?: (pos: number) => void): VerifiedExecutable {
  const real = checkPluginDir(path, pluginDir);
  const { fd, st: before } = openTrusted(real, path);
  try {
    if ((before.mode & 0o111) === 0) throw new KeywayError('failed_precondition', `plugin executable ${path} is not executable`);
    const copy = privateCopy(fd, copyDir, basename(real), `plugin executable ${path}`, onChunk);
    const after = fstatSync(fd);
    const bad = !sameFile(before, after)
      ? new KeywayError('checksum_mismatch', `plugin executable ${path} changed while it was being verified`)
      : !constantTimeHexEqual(copy.sha256, expectedSha256)
        ? new KeywayError('checksum_mismatch', `plugin executable ${basename(path)}: checksums did not match (pinned ${expectedSha256.slice(0, 12)}..., found ${copy.sha256.slice(0, 12)}...)`)
        : undefined;
    const close = (): void => {
      try {
        closeSync(copy.fd);
      } catch {
        // already closed
      }
    };
    const dispose = (): void => {
      close();
      rmSync(dirname(copy.path), { recursive: true, force: true });
    };
    if (bad) {
      dispose();
      throw bad;
    }
    return { fd: copy.fd, realPath: real, sha256: copy.sha256, copyPath: copy.path, close, dispose };
  } finally {
    closeSync(fd);
  }
}
