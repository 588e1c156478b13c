// Mounting onto a directory keyway holds open, not onto a name. A mount target given by path is
// resolved by the kernel when mount(2) runs; if anyone can rename entries on the way, the mount can
// land wherever they point it. So keyway opens the mount point with O_DIRECTORY|O_NOFOLLOW,
// verifies the open directory (device, inode, owner), passes that descriptor to mount(8) as fd 3
// and mounts onto /proc/self/fd/3: the kernel resolves that magic link to the very directory
// opened, and `--no-canonicalize` stops mount(8) from turning it back into a path first.
// /proc/self/fd/N/<name> is used the same way as openat(2), which Node lacks.
import { closeSync, constants as fsc, fstatSync, lstatSync, mkdirSync, openSync, type Stats } from 'node:fs';
import { KeywayError, toKeywayError } from '../core/errors.js';
import { runCaptured } from '../core/process/capture.js';
import { euid } from '../core/safe-dir.js';
import { HOST_ENV } from './exec.js';

/** The path through which `name` inside the open directory `dirFd` is reached (like openat). */
export function at(dirFd: number, name: string): string {
  if (name.includes('/') || name === '' || name === '.' || name === '..') throw new KeywayError('internal', `at(): ${JSON.stringify(name)} is not a single path component`);
  return `/proc/self/fd/${dirFd}/${name}`;
}

/** Opens a directory without following a symlink in its last component; returns the fd and its stat. */
export function openDirNoFollow(path: string, what: string): { fd: number; st: Stats } {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOTDIR') throw new KeywayError('failed_precondition', `${what} is a symlink or not a directory; refusing to use it`, { cause: e });
    throw toKeywayError(e, `cannot open ${what}`);
  }
  return { fd, st: fstatSync(fd) };
}

/**
 * Creates (0700) or opens `name` inside the open, verified directory `parentFd` and checks that it
 * is a real directory owned by keyway's uid. `expect` (device and inode) pins it further. The
 * caller closes the returned fd.
 */
export function openOwnSubdir(parentFd: number, name: string, what: string, expect?: { dev: number; ino: number }): { fd: number; st: Stats } {
  const path = at(parentFd, name);
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw toKeywayError(e, `cannot create ${what}`);
  }
  // lstat first only for a clearer message; the open below is what is trusted.
  if (lstatSync(path).isSymbolicLink()) throw new KeywayError('failed_precondition', `${what} is a symlink; refusing to use it`);
  const opened = openDirNoFollow(path, what);
  const st = opened.st;
  const problem =
    !st.isDirectory() ? 'is not a directory'
    : st.uid !== euid() ? `is owned by uid ${st.uid}, not by keyway's uid`
    : expect !== undefined && (st.dev !== expect.dev || st.ino !== expect.ino) ? 'was replaced while keyway was checking it'
    : undefined;
  if (problem !== undefined) {
    closeSync(opened.fd);
    throw new KeywayError('failed_precondition', `${what} ${problem}`);
  }
  return opened;
}

/**
 * mount(8) with the target given as the open directory `dirFd` (see the top of this file). Returns
 * whether it succeeded, and mount(8)'s stderr, or why it did not run or finish.
 */
export async function mountOnFd(dirFd: number, fsType: string, options: string, source: string, signal?: AbortSignal): Promise<{ ok: boolean; stderr: string }> {
  try {
    // The open directory is the child's fd 3, and the only descriptor it gets beyond stdio.
    const r = await runCaptured({
      file: 'mount',
      args: ['--no-canonicalize', '-t', fsType, '-o', options, source, '/proc/self/fd/3'],
      extraFds: [dirFd],
      env: HOST_ENV,
      where: 'host tool',
      timeoutMs: 15_000,
      maxStdout: 4096,
      ...(signal ? { signal } : {}),
    });
    return { ok: r.code === 0, stderr: r.stderr.slice(0, 4096).trim() };
  } catch (e) {
    // Not started, past the deadline, cancelled: the reason stands in for mount(8)'s stderr.
    return { ok: false, stderr: e instanceof Error ? e.message : String(e) };
  }
}
