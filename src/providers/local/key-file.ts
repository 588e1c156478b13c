// The local provider's AES-256 key: 32 random bytes, base64 in a 0600 file created on first write.
// A missing, loose, or malformed key file is reported clearly and never replaced: replacing it would
// make every existing blob unreadable.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants as fsc, fstatSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { KeywayError } from '../../core/errors.js';

export interface LocalKey {
  readonly key: Buffer;
  /** First 16 hex of sha256(key): recorded with each blob to tell "wrong key" from "corrupt data". */
  readonly id: string;
}

function keyId(key: Buffer): string {
  return createHash('sha256').update('keyway-local-key-id\0').update(key).digest('hex').slice(0, 16);
}

export function readKeyFile(path: string): LocalKey | undefined {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KeywayError('failed_precondition', `key file ${path}: cannot stat (${(e as NodeJS.ErrnoException).code})`, { cause: e });
  }
  if (st.isSymbolicLink() || !st.isFile()) throw new KeywayError('failed_precondition', `key file ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    throw new KeywayError('failed_precondition', `key file ${path} has mode 0${(st.mode & 0o777).toString(8)}; it must be 0600 (run: chmod 600 ${path})`);
  }
  const text = readFileSync(path, 'utf8').trim();
  const key = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text) || key.length !== 32) {
    key.fill(0);
    throw new KeywayError('failed_precondition', `key file ${path} is corrupt: expected 32 bytes in base64 (44 characters); nothing was changed`);
  }
  return { key, id: keyId(key) };
}

/**
 * Reads the key, creating it if absent. The key is written to a private temp file (O_EXCL, 0600),
 * flushed, then linked into place: link() fails if the name exists, so of two concurrent creators
 * exactly one wins, and no reader ever sees a key file that is still empty or half written. The
 * directory is flushed after the link: values are encrypted under the key once this returns, so its
 * name must survive a crash too.
 */
export function readOrCreateKeyFile(path: string): LocalKey {
  const existing = readKeyFile(path);
  if (existing) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.new`;
  try {
    let fd: number;
    try {
      fd = openSync(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    } catch (e) {
      throw new KeywayError('failed_precondition', `key file ${path}: cannot create (${(e as NodeJS.ErrnoException).code})`, { cause: e });
    }
    try {
      if ((fstatSync(fd).mode & 0o077) !== 0) throw new KeywayError('internal', `key file ${path} was created with a loose mode`);
      writeSync(fd, key.toString('base64') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        const raced = readKeyFile(path);
        if (raced) {
          key.fill(0);
          return raced;
        }
      }
      throw new KeywayError('failed_precondition', `key file ${path}: cannot create (${(e as NodeJS.ErrnoException).code})`, { cause: e });
    }
    syncDirectory(path);
  } catch (e) {
    key.fill(0);
    throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  return { key, id: keyId(key) };
}

function syncDirectory(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), fsc.O_RDONLY | fsc.O_DIRECTORY);
    fsyncSync(fd);
  } catch (e) {
    // A filesystem that cannot sync a directory (EINVAL) keeps names as its own rules allow.
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw new KeywayError('failed_precondition', `key file ${path}: cannot flush its directory (${(e as NodeJS.ErrnoException).code})`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
