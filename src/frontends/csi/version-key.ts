// The per-installation key for object versions. Versions are HMACs of content under this key, so
// they are stable across restarts (the driver and `kubectl get secretproviderclasspodstatus` show
// them) yet reveal nothing: a raw hash of a short secret could be brute-forced from the status.
import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsc, fstatSync, linkSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';

export const VERSION_KEY_FILE = 'csi-version.key';
const KEY_BYTES = 32;

function readKey(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  } catch (e) {
    throw toKeywayError(e, `cannot open CSI version key ${path}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeywayError('failed_precondition', `CSI version key ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) throw new KeywayError('failed_precondition', `CSI version key ${path} has mode 0${(st.mode & 0o777).toString(8)}; expected 0600`);
    if (st.size !== KEY_BYTES) throw new KeywayError('failed_precondition', `CSI version key ${path} is ${st.size} bytes; expected ${KEY_BYTES} (remove it to make a new one)`);
    const key = Buffer.allocUnsafeSlow(KEY_BYTES);
    if (readSync(fd, key, 0, KEY_BYTES, 0) !== KEY_BYTES) throw new KeywayError('failed_precondition', `CSI version key ${path} could not be read in full`);
    return key;
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the key from `<stateDir>/csi-version.key`, creating it on first use. A new key is written to
 * a temporary file and hard-linked into place, so a crash never leaves a short key and two
 * processes racing agree on one key.
 */
export function loadVersionKey(stateDir: string): Buffer {
  const path = join(stateDir, VERSION_KEY_FILE);
  try {
    return readKey(path);
  } catch (e) {
    if (!(e instanceof KeywayError) || e.code !== 'not_found') throw e;
  }
  const tmp = join(stateDir, `.${VERSION_KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const key = randomBytes(KEY_BYTES);
  try {
    const fd = openSync(tmp, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY | fsc.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, key);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  } catch (e) {
    throw toKeywayError(e, `cannot create CSI version key in ${stateDir}`);
  } finally {
    key.fill(0);
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
  }
  return readKey(path);
}
