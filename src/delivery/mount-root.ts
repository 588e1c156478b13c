// The mount root: `<runtime-dir>/mounts`, the one filesystem every mount set lives on.
// As root keyway mounts a private tmpfs there with `noswap` (kernel ≥ 6.4), falling back to ramfs,
// then to a plain tmpfs (classified weak). Without the right to mount, the root is a plain
// directory and is classified by the filesystem that holds it — honestly, insecure on a disk.
// Mounting goes through mount(8) (no shell): Node has no mount(2) binding, and mount(8) is present
// on every Linux host keyway targets.
//
// Root mounts here, so nobody else may steer where: the runtime dir must be keyway's own and every
// directory above it trusted (src/core/safe-dir.ts), and the mount point is opened without
// following links, verified, and mounted through that open directory (./fd-mount.ts).
import { closeSync, constants as fsc, fchmodSync, fstatSync, lstatSync, openSync, readFileSync, realpathSync, rmSync, writeSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { KeywayError, throwIfAborted, toKeywayError } from '../core/errors.js';
import { ensureOwnDir } from '../core/safe-dir.js';
import { run } from './exec.js';
import { mountOnFd, openDirNoFollow, openOwnSubdir } from './fd-mount.js';
import { mountAt, mountOf, readMountInfo } from './mountinfo.js';
import { classifyMount, type Protection } from './protection.js';

export const MOUNT_ROOT_DIR = 'mounts';
const LOCK_FILE = '.mounts.lock';
const DEFAULT_SIZE = '64m';

export interface MountRootInfo {
  readonly path: string;
  readonly fsType: string;
  readonly options: readonly string[];
  readonly protection: Protection;
  /** Why it got that classification, for logs and `keyway doctor`. */
  readonly reason: string;
  /** True when the root is its own mount point (mounted by keyway or an admin). */
  readonly isMountPoint: boolean;
  /** Device and inode of the root dir: a remount or a replacement changes them. */
  readonly dev: number;
  readonly ino: number;
}

export interface MountRootOptions {
  readonly runtimeDir: string;
  /** tmpfs size limit, as mount(8) takes it ("64m"). */
  readonly size?: string;
  /** Try to mount (default: when running as root). */
  readonly mount?: boolean;
  /** Accept a root on a persistent filesystem (the user asked for it). */
  readonly allowInsecure?: boolean;
  readonly signal?: AbortSignal;
}

export function mountRootPath(runtimeDir: string): string {
  return join(runtimeDir, MOUNT_ROOT_DIR);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An O_EXCL lock file holding the owner's pid, so two keyway processes never stack two mounts. */
async function withLock<T>(runtimeDir: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const path = join(runtimeDir, LOCK_FILE);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const fd = openSync(path, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY | fsc.O_NOFOLLOW, 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw toKeywayError(e, 'cannot take the mount root lock');
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8'));
      } catch {
        // removed meanwhile: retry
      }
      if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new KeywayError('timeout', `mount root lock ${path} is held by pid ${holder}`);
      if (signal?.aborted) throw new KeywayError('cancelled', 'waiting for the mount root lock was cancelled');
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/** Opens (creating 0700 if missing) the root dir inside the open runtime dir; refuses a symlink or someone else's dir. */
function openRootDir(runtimeFd: number, path: string): { fd: number; st: Stats } {
  const opened = openOwnSubdir(runtimeFd, MOUNT_ROOT_DIR, `mount root ${path}`);
  if ((opened.st.mode & 0o077) !== 0) fchmodSync(opened.fd, 0o700);
  return opened;
}

function describe(path: string): MountRootInfo {
  const entries = readMountInfo();
  const own = mountAt(path, entries);
  const holder = own ?? mountOf(realpathSync(path), entries);
  if (holder === undefined) throw new KeywayError('internal', `no mount holds ${path}`);
  const c = classifyMount(holder);
  const st = lstatSync(path);
  return {
    dev: st.dev,
    ino: st.ino,
    path,
    fsType: holder.fsType,
    options: [...holder.mountOptions, ...holder.superOptions],
    protection: c.protection,
    reason: own ? c.reason : `not a mount point; on ${holder.mountPoint}: ${c.reason}`,
    isMountPoint: own !== undefined,
  };
}

/**
 * Checks an existing root without changing anything: not a symlink, a directory, and the very
 * directory on the very filesystem it was at start-up (same device and inode: an unmount, a
 * remount or a replacement changes them). Called before every mount set is created or updated, so
 * it avoids re-reading mountinfo, which costs the kernel far more than an lstat.
 */
export function verifyMountRoot(expected: MountRootInfo): void {
  let st;
  try {
    st = lstatSync(expected.path);
  } catch (e) {
    throw toKeywayError(e, `mount root ${expected.path} is gone`);
  }
  if (st.isSymbolicLink()) throw new KeywayError('failed_precondition', `mount root ${expected.path} has been replaced by a symlink; refusing to write there`);
  if (!st.isDirectory()) throw new KeywayError('failed_precondition', `mount root ${expected.path} is no longer a directory`);
  if (st.dev !== expected.dev || st.ino !== expected.ino) {
    throw new KeywayError('failed_precondition', `mount root ${expected.path} is no longer the ${expected.fsType} it was at start-up (unmounted or replaced)`);
  }
}

/**
 * Makes sure the mount root exists and is as safe as this host allows, and reports what it is.
 * Refuses a root that is a symlink, a mount of a persistent filesystem, or (unless allowInsecure)
 * a plain directory on a persistent filesystem.
 */
export async function ensureMountRoot(opts: MountRootOptions): Promise<MountRootInfo> {
  const rtStat = ensureOwnDir(opts.runtimeDir, 'runtime dir');
  const rt = openDirNoFollow(opts.runtimeDir, `runtime dir ${opts.runtimeDir}`);
  try {
    if (rt.st.dev !== rtStat.dev || rt.st.ino !== rtStat.ino) throw new KeywayError('failed_precondition', `runtime dir ${opts.runtimeDir} was replaced while keyway was checking it`);
    return await ensureRootInOpenDir(rt.fd, opts);
  } finally {
    closeSync(rt.fd);
  }
}

/**
 * The mount-root work inside the runtime dir open as `runtimeFd`: the root is opened, checked and
 * mounted through that descriptor, so it lands inside that very directory whatever is renamed
 * meanwhile. It does not judge who owns the runtime dir; ensureMountRoot checks that first.
 */
export async function ensureRootInOpenDir(runtimeFd: number, opts: MountRootOptions): Promise<MountRootInfo> {
  const path = mountRootPath(opts.runtimeDir);
  const wantMount = opts.mount ?? process.geteuid?.() === 0;
  // Why each mount attempt failed, when none succeeded: root without the right to mount (a
  // container without CAP_SYS_ADMIN) must hear that, not "run as root".
  const mountFailures = new Map<string, string[]>();
  const info = await withLock(
    opts.runtimeDir,
    async () => {
      const root = openRootDir(runtimeFd, path);
      try {
        const existing = mountAt(path);
        if (existing !== undefined) {
          const c = classifyMount(existing);
          if (c.protection === 'insecure') throw new KeywayError('failed_precondition', `mount root ${path} is a ${existing.fsType} mount; expected tmpfs or ramfs`);
          return describe(path);
        }
        if (wantMount) {
          const size = opts.size ?? DEFAULT_SIZE;
          const base = 'mode=0700,nosuid,nodev,noexec';
          const attempts: [fsType: 'tmpfs' | 'ramfs', options: string][] = [
            ['tmpfs', `noswap,${base},size=${size}`],
            ['ramfs', base],
            ['tmpfs', `${base},size=${size}`],
          ];
          for (const [fsType, o] of attempts) {
            // Before each attempt too: a mount started after the cancel could still succeed.
            throwIfAborted(opts.signal, `mounting ${path}`);
            const r = await mountOnFd(root.fd, fsType, o, `keyway-${fsType}`, opts.signal);
            if (r.ok) break;
            throwIfAborted(opts.signal, `mounting ${path}`);
            // mount(8)'s first sentence; the same reason for every attempt is written once.
            const why = r.stderr.replace(/\s+/g, ' ').replace(/ dmesg\(1\) may have more information.*$/, '').slice(0, 200) || 'mount failed';
            mountFailures.set(why, [...(mountFailures.get(why) ?? []), `${fsType}${o.startsWith('noswap') ? ' noswap' : ''}`]);
          }
          // The mount sits on the directory opened above; the name must now lead onto it.
          const now = openDirNoFollow(path, `mount root ${path}`);
          closeSync(now.fd);
          const under = fstatSync(root.fd);
          if (now.st.dev === under.dev && now.st.ino !== under.ino) throw new KeywayError('failed_precondition', `mount root ${path} was replaced while keyway was mounting it`);
        }
        return describe(path);
      } finally {
        closeSync(root.fd);
      }
    },
    opts.signal,
  );
  if (info.isMountPoint && info.fsType !== 'tmpfs' && info.fsType !== 'ramfs') {
    throw new KeywayError('failed_precondition', `mount root ${path} is a ${info.fsType} mount; expected tmpfs or ramfs`);
  }
  if (info.protection === 'insecure' && !opts.allowInsecure) {
    const remedy =
      mountFailures.size > 0
        ? `mounting one there failed (${[...mountFailures].map(([why, what]) => `${what.join(', ')}: ${why}`).join('; ')}); give keyway the right to mount (CAP_SYS_ADMIN)`
        : 'run as root so keyway can mount a noswap tmpfs';
    throw new KeywayError('failed_precondition', `mount root ${path} would be on a persistent filesystem (${info.reason}); ${remedy}, or point --runtime-dir at a tmpfs`);
  }
  return info;
}

/** Unmounts the root if it is a mount point (tests, uninstall). Lazy, so open readers do not block it. */
export async function unmountRoot(runtimeDir: string): Promise<void> {
  const path = mountRootPath(runtimeDir);
  for (let i = 0; i < 4 && mountAt(path) !== undefined; i++) {
    const r = await run('umount', ['-l', path]);
    if (!r.ok) throw new KeywayError('internal', `umount ${path} failed: ${r.stderr.slice(0, 200)}`);
  }
}
