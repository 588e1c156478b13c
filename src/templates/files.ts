// Reading template files. Two cases:
// - a path the CLI user named (`template render`, `run --template`): that user may read it anyway;
// - a name inside the templates dir, given by whoever can call the Docker API or write a
//   SecretProviderClass. They must not read other host files through it: a leading "/", a ".."
//   element, or a symlink leading out of the dir is refused. The path is resolved, checked to lie in
//   the dir, opened without following a final symlink, and the descriptor itself is checked again
//   (its /proc/self/fd link names the file the kernel actually opened) before anything is read
//   through it, so swapping a path component between check and open gains nothing.
import { closeSync, constants as fsc, fstatSync, openSync, readlinkSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { KeywayError, toKeywayError } from '../core/errors.js';

/** Read flags: no controlling tty, never block on a FIFO, no symlink as the last component. */
const OPEN_FLAGS = fsc.O_RDONLY | fsc.O_NOCTTY | fsc.O_NONBLOCK | fsc.O_NOFOLLOW;
const MAX_NAME = 1024;

/** Checks the form of a name inside the templates dir: relative, no "." or ".." elements. */
export function checkTemplateName(name: unknown, what = 'template'): string {
  if (typeof name !== 'string') throw new KeywayError('invalid_argument', `${what} must be a file name (a string)`);
  if (name.length === 0) throw new KeywayError('invalid_argument', `${what} is empty`);
  if (name.length > MAX_NAME) throw new KeywayError('invalid_argument', `${what} is longer than ${MAX_NAME} characters`);
  if (name.includes('\0')) throw new KeywayError('invalid_argument', `${what} contains a NUL byte`);
  if (name.startsWith('/')) throw new KeywayError('invalid_argument', `${what} ${JSON.stringify(name)} must be relative to the templates dir (no leading "/")`);
  const parts = name.split('/');
  if (parts.some((p) => p === '..')) throw new KeywayError('invalid_argument', `${what} ${JSON.stringify(name)} must not contain ".." (templates are read from the templates dir only)`);
  if (parts.some((p) => p === '' || p === '.')) throw new KeywayError('invalid_argument', `${what} ${JSON.stringify(name)} has an empty or "." path element`);
  return name;
}

function readFd(fd: number, what: string, maxBytes: number): Buffer {
  const st = fstatSync(fd);
  if (!st.isFile()) throw new KeywayError('invalid_argument', `${what} is not a regular file`);
  if (st.size > maxBytes) throw new KeywayError('too_large', `${what} is ${st.size} bytes, over limits.max_secret_bytes (${maxBytes})`);
  const buf = Buffer.alloc(st.size + 1);
  let n = 0;
  for (;;) {
    const r = readSync(fd, buf, n, buf.length - n, null);
    if (r === 0) break;
    n += r;
    if (n > maxBytes || n === buf.length) throw new KeywayError('too_large', `${what} grew while being read, or is over limits.max_secret_bytes (${maxBytes})`);
  }
  return buf.subarray(0, n);
}

function withFd<T>(path: string, flags: number, what: string, fn: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, flags);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code;
    if (errno === 'ELOOP') throw new KeywayError('permission_denied', `${what} is a symlink that changed while it was opened`);
    if (errno === 'ENOENT') throw new KeywayError('not_found', `${what} does not exist`);
    throw toKeywayError(e, `cannot open ${what}`);
  }
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a template at a path the CLI user gave (relative to the working directory). */
export function readTemplatePath(path: string, maxBytes: number): Buffer {
  const what = `template ${JSON.stringify(path)}`;
  // The user's own path may be a symlink: open it following links, but never block on a FIFO.
  return withFd(path, fsc.O_RDONLY | fsc.O_NOCTTY | fsc.O_NONBLOCK, what, (fd) => readFd(fd, what, maxBytes));
}

function inside(dir: string, path: string): boolean {
  return path.startsWith(dir === sep ? sep : dir + sep);
}

/** Reads `name` from the templates dir `dir`, refusing anything that resolves outside it. */
export function readTemplateIn(dir: string, name: string, maxBytes: number): Buffer {
  checkTemplateName(name);
  const what = `template ${JSON.stringify(name)}`;
  let realDir: string;
  try {
    realDir = realpathSync(dir);
    if (!statSync(realDir).isDirectory()) throw new KeywayError('failed_precondition', `the templates dir ${dir} is not a directory`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new KeywayError('not_found', `${what}: the templates dir ${dir} does not exist (config templates.dir)`);
    throw toKeywayError(e, `templates dir ${dir}`);
  }
  let resolved: string;
  try {
    resolved = realpathSync(join(realDir, name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new KeywayError('not_found', `${what} does not exist in the templates dir ${dir}`);
    throw toKeywayError(e, `cannot resolve ${what}`);
  }
  // Checked before opening, so an outside file (a device, a FIFO) is never even opened.
  if (!inside(realDir, resolved)) throw new KeywayError('permission_denied', `${what} is a symlink leading out of the templates dir ${dir}`);
  return withFd(resolved, OPEN_FLAGS, what, (fd) => {
    let opened: string;
    try {
      opened = readlinkSync(`/proc/self/fd/${fd}`);
    } catch (e) {
      throw toKeywayError(e, `cannot check ${what}`);
    }
    if (!inside(realDir, opened)) throw new KeywayError('permission_denied', `${what} moved out of the templates dir ${dir} while it was opened`);
    return readFd(fd, what, maxBytes);
  });
}
