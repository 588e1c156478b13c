// The on-disk layout of one mount set and its atomic update, after Kubernetes' atomic writer:
//
//   <set>/..2026_11_22_05_30_00.1a2b3c/   one payload dir per version (files written here)
//   <set>/..data -> ..2026_11_22_...      swapped with rename(2), which is atomic
//   <set>/<name> -> ..data/<name>         what consumers open
//
// A reader resolves <name> through ..data in one path walk, so it opens the old version or the new
// one, never a mix. A replaced version is not removed at once: a reader that read ..data just before
// a swap may be descheduled before it looks up the payload dir it names (removing it gave such a
// reader ENOENT). The version a swap replaces always stays until the next swap, and an older one
// is removed by a later swap once it has been superseded for KEEP_MS; it is overwritten with zeros
// first once superseded for ZERO_AFTER_MS, only unlinked before that (a reader between its open
// and its read must see whole bytes; tmpfs frees the pages on last close). Files of a released set
// are always zeroed.
//
// Every file is created with O_CREAT|O_EXCL|O_NOFOLLOW, so a pre-planted file or symlink makes the
// write fail instead of following it; every entry is examined with lstat, never followed.
// A consumer may own its set dir (a volume with uid=), and can then rename entries in it at any
// moment. So files inside a payload dir are written, wiped and removed only through that dir
// opened O_NOFOLLOW (/proc/self/fd/N/<name>, like openat): swapping the payload dir for a symlink
// between keyway's check and its use cannot send root's writes elsewhere.
// (libuv opens every descriptor with O_CLOEXEC, so none leaks into a spawned child.)
import { randomBytes } from 'node:crypto';
import {
  chmodSync, closeSync, constants as fsc, fchmodSync, fchownSync, chownSync, fstatSync, lstatSync, mkdirSync, openSync,
  readdirSync, readlinkSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { KeywayError, toKeywayError } from '../core/errors.js';
import { validateFileName } from '../core/names.js';
import type { SecretValue } from '../core/secret-value.js';
import { at, openDirNoFollow } from './fd-mount.js';

export const DATA_LINK = '..data';
const DATA_TMP = '..data_tmp';
const PAYLOAD_RE = /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{3}[0-9a-f]{6}$/;

export interface FileToWrite {
  readonly name: string;
  readonly bytes: SecretValue;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface DirOwner {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

const myUid = (): number => process.geteuid?.() ?? 0;
const myGid = (): number => process.getegid?.() ?? 0;

function chownIfNeeded(fdOrPath: number | string, uid: number, gid: number): void {
  if (uid === myUid() && gid === myGid()) return;
  try {
    if (typeof fdOrPath === 'number') fchownSync(fdOrPath, uid, gid);
    else chownSync(fdOrPath, uid, gid);
  } catch (e) {
    throw new KeywayError('permission_denied', `cannot give ${typeof fdOrPath === 'string' ? fdOrPath : 'a delivered file'} to uid ${uid} gid ${gid} (${(e as NodeJS.ErrnoException).code}); only root can deliver to another owner`, { cause: e });
  }
}

function writeFully(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Creates `path` exclusively (never following or replacing anything) with the given bytes and owner. */
export function writeExclusive(path: string, bytes: Buffer, mode: number, uid: number, gid: number): void {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ELOOP') throw new KeywayError('failed_precondition', `refusing to write ${path}: something already exists there (a planted file or symlink?)`, { cause: e });
    throw toKeywayError(e, `cannot create ${path}`);
  }
  try {
    chownIfNeeded(fd, uid, gid);
    fchmodSync(fd, mode);
    writeFully(fd, bytes);
  } catch (e) {
    closeSync(fd);
    unlinkSync(path);
    throw toKeywayError(e, `cannot write ${path}`);
  }
  closeSync(fd);
}

/** Overwrites a regular file's bytes with zeros, then unlinks it. Symlinks are only unlinked. */
export function overwriteAndUnlink(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (st.isFile() && st.size > 0) {
    let fd: number | undefined;
    try {
      fd = openSync(path, fsc.O_WRONLY | fsc.O_NOFOLLOW);
    } catch {
      // Mode 0400 and not root: make it writable for the owner, then retry.
      try {
        chmodSync(path, 0o600);
        fd = openSync(path, fsc.O_WRONLY | fsc.O_NOFOLLOW);
      } catch {
        fd = undefined;
      }
    }
    if (fd !== undefined) {
      try {
        const size = fstatSync(fd).size;
        const zeros = Buffer.alloc(Math.min(size, 64 * 1024));
        for (let off = 0; off < size; ) off += writeSync(fd, zeros, 0, Math.min(zeros.length, size - off), off);
      } finally {
        closeSync(fd);
      }
    }
  }
  unlinkSync(path);
}

/** How long a superseded version stays reachable for an open already under way. */
export const KEEP_MS = 2_000;

/**
 * A superseded version is overwritten with zeros when it is removed if it was superseded at least
 * this long ago; one that lived only through rapid rotations is just unlinked, since a reader may
 * still be between opening and reading it.
 */
export const ZERO_AFTER_MS = 5_000;

/** The creation time encoded in a payload dir name (UTC, milliseconds). */
function payloadTime(name: string): number | undefined {
  const m = /^\.\.(\d{4})_(\d{2})_(\d{2})_(\d{2})_(\d{2})_(\d{2})\.(\d{3})/.exec(name);
  if (!m) return undefined;
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(n[0], n[1] - 1, n[2], n[3], n[4], n[5], n[6]);
}

function newPayloadName(now: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.${p(now.getUTCMilliseconds(), 3)}${randomBytes(3).toString('hex')}`;
}

function lstatOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function checkSetDir(dir: string): void {
  const st = lstatOrUndefined(dir);
  if (st === undefined) throw new KeywayError('not_found', `mount set directory ${dir} is gone`);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new KeywayError('failed_precondition', `mount set directory ${dir} has been replaced by something that is not a directory`);
}

/** The payload dir `..data` points at, checked to be one of ours. */
export function currentPayload(dir: string): string | undefined {
  const st = lstatOrUndefined(join(dir, DATA_LINK));
  if (st === undefined) return undefined;
  if (!st.isSymbolicLink()) throw new KeywayError('failed_precondition', `${join(dir, DATA_LINK)} is not a symlink`);
  const target = readlinkSync(join(dir, DATA_LINK));
  if (!PAYLOAD_RE.test(target)) throw new KeywayError('failed_precondition', `${join(dir, DATA_LINK)} points outside the mount set`);
  return target;
}

/** Creates the (empty) directory of a new set. Fails if anything is there already. */
export function createSetDir(dir: string, owner: DirOwner): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new KeywayError('already_exists', `mount set directory ${dir} already exists`);
    throw toKeywayError(e, `cannot create mount set directory ${dir}`);
  }
  chownIfNeeded(dir, owner.uid, owner.gid);
  chmodSync(dir, owner.mode);
}

/** The publish in progress per set dir, so publishes of one set run one at a time. */
const publishing = new Map<string, Promise<void>>();

/**
 * Writes `files` as the new version of the set in `dir` and swaps it in atomically. On failure
 * before the swap the previous version stays in place untouched. Publishes of one set run one at
 * a time in call order, so the last update made is the one left in place and a swap never removes
 * the half-written payload of another.
 */
export function publish(
  dir: string,
  files: readonly FileToWrite[],
  owner: DirOwner,
  label?: (path: string) => Promise<void>,
  now?: Date,
): Promise<void> {
  const run = (publishing.get(dir) ?? Promise.resolve()).then(() => publishNow(dir, files, owner, label, now ?? new Date()));
  const settled = run.catch(() => undefined);
  publishing.set(dir, settled);
  void settled.then(() => {
    if (publishing.get(dir) === settled) publishing.delete(dir);
  });
  return run;
}

async function publishNow(dir: string, files: readonly FileToWrite[], owner: DirOwner, label: ((path: string) => Promise<void>) | undefined, now: Date): Promise<void> {
  checkSetDir(dir);
  const names = new Set<string>();
  for (const f of files) {
    validateFileName(f.name);
    if (names.has(f.name)) throw new KeywayError('invalid_argument', `file name ${JSON.stringify(f.name)} appears twice in one mount set`);
    names.add(f.name);
  }
  const old = currentPayload(dir);
  // Every user-visible entry must be one of our symlinks: anything else was planted.
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('..')) continue;
    const st = lstatSync(join(dir, entry));
    if (!st.isSymbolicLink() || readlinkSync(join(dir, entry)) !== `${DATA_LINK}/${entry}`) {
      throw new KeywayError('failed_precondition', `refusing to update mount set ${dir}: ${JSON.stringify(entry)} is not a link keyway made (planted file or symlink?)`);
    }
  }
  // Names order versions: a new one is strictly later than the current one even within the same
  // millisecond (the random suffix alone would sort same-millisecond names at random).
  const oldTime = old !== undefined ? payloadTime(old) : undefined;
  const payloadName = newPayloadName(new Date(Math.max(now.getTime(), oldTime !== undefined ? oldTime + 1 : 0)));
  const payload = join(dir, payloadName);
  try {
    mkdirSync(payload, { mode: 0o700 });
  } catch (e) {
    throw toKeywayError(e, `cannot create payload directory in ${dir}`);
  }
  try {
    const pd = openDirNoFollow(payload, `payload directory in ${dir}`);
    try {
      if (pd.st.uid !== myUid()) throw new KeywayError('failed_precondition', `payload directory in ${dir} was replaced while keyway was writing it`);
      for (const f of files) writeExclusive(at(pd.fd, f.name), f.bytes.expose(), f.mode, f.uid, f.gid);
      chownIfNeeded(pd.fd, owner.uid, owner.gid);
      fchmodSync(pd.fd, owner.mode);
    } finally {
      closeSync(pd.fd);
    }
    if (label) await label(payload);
    const tmp = join(dir, DATA_TMP);
    if (lstatOrUndefined(tmp) !== undefined) unlinkSync(tmp);
    symlinkSync(payloadName, tmp);
    renameSync(tmp, join(dir, DATA_LINK));
  } catch (e) {
    removePayload(payload, true);
    throw toKeywayError(e, `cannot publish mount set ${dir}`);
  }
  // After the swap: add links for new names, drop links for names that went away.
  for (const name of names) {
    if (lstatOrUndefined(join(dir, name)) === undefined) symlinkSync(`${DATA_LINK}/${name}`, join(dir, name));
  }
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith('..') && !names.has(entry)) unlinkSync(join(dir, entry));
  }
  removeSuperseded(dir, payloadName, old, now.getTime());
  // The payload was labelled before it became visible; this covers the set dir and new links.
  if (label) await label(dir);
}

/**
 * Removes the versions that neither the swap just made (`current`) nor the one it replaced (`old`)
 * still need: each older version goes once the version that superseded it (the next one by name,
 * names being creation times) is KEEP_MS old. Payload dirs left by a crash between mkdir and swap
 * are covered the same way.
 */
function removeSuperseded(dir: string, current: string, old: string | undefined, now: number): void {
  const names = readdirSync(dir)
    .filter((e) => PAYLOAD_RE.test(e))
    .sort();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (name === current || name === old) continue;
    const next = names[i + 1];
    const supersededAt = next !== undefined ? payloadTime(next) : undefined;
    if (supersededAt === undefined || now - supersededAt < KEEP_MS) continue;
    removePayload(join(dir, name), now - supersededAt >= ZERO_AFTER_MS);
  }
}

/** Removes a payload dir; `wipe` overwrites its files with zeros first. */
function removePayload(payload: string, wipe: boolean): void {
  let pd;
  try {
    pd = openDirNoFollow(payload, `payload directory ${payload}`);
  } catch {
    return; // gone, or a symlink someone put there: not ours to follow
  }
  try {
    for (const e of readdirSync(`/proc/self/fd/${pd.fd}`)) {
      if (wipe) overwriteAndUnlink(at(pd.fd, e));
      else unlinkSync(at(pd.fd, e));
    }
  } finally {
    closeSync(pd.fd);
  }
  rmdirSync(payload);
}

/** Wipes and removes a whole set directory: files overwritten with zeros, then unlinked. */
export function destroySetDir(dir: string): void {
  const st = lstatOrUndefined(dir);
  if (st === undefined) return;
  if (st.isSymbolicLink() || !st.isDirectory()) throw new KeywayError('failed_precondition', `refusing to remove ${dir}: not a directory`);
  // Drop the links first so consumers stop finding files, then wipe every payload.
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (lstatSync(p).isSymbolicLink()) unlinkSync(p);
  }
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const s = lstatSync(p);
    if (s.isDirectory()) removePayload(p, true);
    else overwriteAndUnlink(p);
  }
  rmdirSync(dir);
}
