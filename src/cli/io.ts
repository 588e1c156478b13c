// Byte-exact input and output for secret values: read with a hard cap (one byte over is refused
// without buffering the rest), write fully, never through a string.
import { closeSync, fchmodSync, constants as fsc, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { KeywayError } from '../core/errors.js';
import { SecretValue } from '../core/secret-value.js';

/** Reads fd to EOF; refuses more than `max` bytes. */
export function readFdCapped(fd: number, max: number, what: string): SecretValue {
  let buf = Buffer.allocUnsafeSlow(Math.min(max + 1, 64 * 1024));
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      if (buf.length > max) break;
      const bigger = Buffer.allocUnsafeSlow(Math.min(buf.length * 2, max + 1));
      buf.copy(bigger, 0, 0, len);
      buf.fill(0);
      buf = bigger;
    }
    let n: number;
    try {
      n = readSync(fd, buf, len, buf.length - len, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      if ((e as NodeJS.ErrnoException).code === 'EOF') break;
      buf.fill(0);
      throw new KeywayError('failed_precondition', `${what}: read failed (${(e as NodeJS.ErrnoException).code})`, { cause: e });
    }
    if (n === 0) break;
    len += n;
    if (len > max) break;
  }
  if (len > max) {
    buf.fill(0);
    throw new KeywayError('too_large', `${what} is larger than the limit of ${max} bytes`);
  }
  const out = SecretValue.copyOf(buf.subarray(0, len));
  buf.fill(0);
  return out;
}

export function readFileCapped(path: string, max: number): SecretValue {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeywayError(code === 'ENOENT' ? 'not_found' : 'failed_precondition', `cannot open ${path} (${code})`, { cause: e });
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new KeywayError('invalid_argument', `${path} is a directory`);
    if (st.isFile() && st.size > max) throw new KeywayError('too_large', `${path} is ${st.size} bytes; the limit is ${max}`);
    return readFdCapped(fd, max, path);
  } finally {
    closeSync(fd);
  }
}

export function writeAll(fd: number, bytes: Buffer): void {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
  }
}

/** Writes a secret's exact bytes to fd (stdout for `get`-like commands), then zeroes it: it is handed over. */
export function writeValue(fd: number, value: SecretValue): void {
  try {
    writeAll(fd, value.expose());
  } finally {
    value.zero();
  }
}

/**
 * Writes a secret to a file the user named: 0600, not through a symlink. An existing regular file
 * is checked through the opened fd before it is emptied: someone else's is refused (its owner could
 * read the secret whatever its mode), and a looser mode is tightened to 0600 before any byte lands.
 */
export function writeSecretFile(path: string, value: SecretValue): void {
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_NOFOLLOW, 0o600);
  try {
    const st = fstatSync(fd);
    if (st.isFile()) {
      if (st.uid !== process.geteuid?.()) throw new KeywayError('failed_precondition', `--out ${path} belongs to uid ${st.uid}, who could read the secret; remove it or choose another path`);
      if ((st.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
      ftruncateSync(fd, 0);
    }
    writeAll(fd, value.expose());
  } finally {
    closeSync(fd);
  }
}
