// Trusting a directory by name. A path is only as safe as every directory on the way to it: whoever
// can write one of them can rename an entry and put a symlink or a directory of their own in its
// place between keyway's check and its use. So, as sshd's StrictModes does, every directory from
// `/` down must be owned by root or by keyway's own uid and not writable by group or others; a
// sticky world-writable directory such as /tmp is accepted as a parent, because there only the
// owner of an entry may rename or remove it (and the entry itself is checked next). The directory
// keyway keeps its own files in must be owned by keyway's uid and writable by nobody else: keyway
// never uses a directory that someone else could have planted files in.
import { chmodSync, lstatSync, mkdirSync, readFileSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { KeywayError, toKeywayError } from './errors.js';

const S_ISVTX = 0o1000;

export function euid(): number {
  return process.geteuid?.() ?? 0;
}

/**
 * Inside a user namespace that does not map host root (`keyway run` and rootless `serve` as a
 * non-root user, or keyway started by rootless Podman as its shell driver), directories owned by
 * ids outside the namespace, such as root's `/` and `/home`, show up as the kernel's overflow uid:
 * their real owner cannot be seen from there. Such an owner is accepted for ancestors only (never
 * for a directory keyway keeps files in), and the mode rule still applies. The same user's keyway
 * outside the namespace sees the real owners: `run` and `serve` check the parents from there
 * before they enter (checkDirsBeforeEntering in src/cli/context.ts), and `doctor` reports them.
 */
let outsideOwnerCache: number | null | undefined;

function outsideOwner(): number | undefined {
  if (outsideOwnerCache === undefined) {
    outsideOwnerCache = null;
    try {
      const map = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
      const initial = map.length === 3 && map[0] === '0' && map[1] === '0' && map[2] === '4294967295';
      if (!initial) outsideOwnerCache = Number(readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim());
    } catch {
      // No procfs: judge owners as they are shown.
    }
  }
  return outsideOwnerCache ?? undefined;
}

function octal(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}

/** `/`, `/a`, `/a/b` ... for an absolute path. */
function prefixes(abs: string): string[] {
  const out: string[] = [sep];
  let cur = '';
  for (const part of abs.split(sep)) {
    if (part === '') continue;
    cur += sep + part;
    out.push(cur);
  }
  return out;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toKeywayError(e, `cannot examine ${path}`);
  }
}

/** What is wrong with a directory above something keyway trusts, or undefined when nothing is. */
export type ParentDirProblem = 'owner' | 'not-directory' | 'writable';

/**
 * The one rule for every directory above a path keyway trusts (its own dirs, plugin files): owned
 * by root or keyway's uid (or, inside a user namespace, an owner outside it, see above), a
 * directory, and not writable by group or others unless sticky. A symlink is judged by its owner
 * only; callers check where it leads.
 */
export function parentDirProblem(st: Stats, me = euid()): ParentDirProblem | undefined {
  if (st.uid !== 0 && st.uid !== me && st.uid !== outsideOwner()) return 'owner';
  if (st.isSymbolicLink()) return undefined;
  if (!st.isDirectory()) return 'not-directory';
  if ((st.mode & 0o022) !== 0 && (st.mode & S_ISVTX) === 0) return 'writable';
  return undefined;
}

/** Why `st` (an ancestor of something keyway trusts) is unsafe, or undefined when it is fine. */
function ancestorProblem(p: string, st: Stats, me: number): string | undefined {
  switch (parentDirProblem(st, me)) {
    case undefined:
      return undefined;
    case 'owner':
      return `${p} is owned by uid ${st.uid}, so that user can replace what is inside it; fix: chown root ${p}, or choose a path whose every directory is owned by root or uid ${me}`;
    case 'not-directory':
      return `${p} is not a directory`;
    case 'writable':
      return `${p} has mode ${octal(st.mode)}: group or others can rename entries in it; fix: chmod go-w ${p} (or chmod +t ${p} if it must stay shared, like /tmp)`;
  }
}

/**
 * Checks every existing directory above `path` (and every symlink on the way, and the directories
 * it resolves to). Missing trailing components are fine: the caller creates them. Throws a
 * `failed_precondition` naming the offending directory and how to fix it.
 */
export function checkAncestors(path: string, what: string, me = euid()): void {
  const abs = resolve(path);
  const parent = dirname(abs);
  let deepestExisting: string | undefined;
  let sawLink = false;
  for (const p of prefixes(parent)) {
    const st = lstatOrUndefined(p);
    if (st === undefined) break;
    const problem = ancestorProblem(p, st, me);
    if (problem !== undefined) throw new KeywayError('failed_precondition', `${what} ${path}: ${problem}`);
    if (st.isSymbolicLink()) sawLink = true;
    deepestExisting = p;
  }
  if (!sawLink || deepestExisting === undefined) return;
  // A symlink on the way: the directories it leads to must pass the same test.
  let real: string;
  try {
    real = realpathSync(deepestExisting);
  } catch (e) {
    throw toKeywayError(e, `${what} ${path}: cannot resolve ${deepestExisting}`);
  }
  for (const p of prefixes(real)) {
    const problem = ancestorProblem(p, lstatSync(p), me);
    if (problem !== undefined) throw new KeywayError('failed_precondition', `${what} ${path}: ${problem} (reached through a symlink)`);
  }
}

/** Why `st`, the directory keyway keeps its own files in, is unsafe, or undefined when it is fine. */
export function ownDirProblem(path: string, st: Stats, me = euid()): string | undefined {
  if (st.isSymbolicLink()) return `${path} is a symlink; fix: point keyway at the real directory, or remove the link so keyway creates the directory`;
  if (!st.isDirectory()) return `${path} is not a directory; fix: remove it so keyway creates the directory`;
  if (st.uid !== me) return `${path} is owned by uid ${st.uid}, not keyway's uid ${me}; keyway does not use a directory someone else made; fix: remove it (after checking what is inside) so keyway creates its own, or choose another path`;
  if ((st.mode & 0o022) !== 0) return `${path} has mode ${octal(st.mode)}: group or others could have planted files in it; fix: check what is inside, then chmod 700 ${path}`;
  return undefined;
}

/**
 * Makes `path` a directory only keyway's uid can use, creating it and any missing parents with
 * mode 0700 (never following a link it did not check). An existing directory must pass
 * `ownDirProblem`; one that others may only read is tightened to 0700. Refuses with a message that
 * says how to fix the problem, and creates nothing inside a directory it refuses.
 */
export function ensureOwnDir(path: string, what: string, me = euid()): Stats {
  checkAncestors(path, what, me);
  const abs = resolve(path);
  // Create missing components top-down, each 0700: they are ours, so nobody can swap them later.
  for (const p of prefixes(abs)) {
    if (lstatOrUndefined(p) !== undefined) continue;
    try {
      mkdirSync(p, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw toKeywayError(e, `cannot create ${what} ${path}`);
      // Created by someone else in between: the checks below (or of the next level) judge it.
    }
    if (p !== abs) checkAncestors(p + sep + 'x', what, me);
  }
  const st = lstatSync(abs);
  const problem = ownDirProblem(path, st, me);
  if (problem !== undefined) throw new KeywayError('failed_precondition', `${what} ${problem}`);
  if ((st.mode & 0o077) !== 0) {
    chmodSync(abs, 0o700);
    return lstatSync(abs);
  }
  return st;
}

/** The same judgement without creating or changing anything (for `keyway doctor`). */
export function inspectOwnDir(path: string, what: string, me = euid()): { ok: true; st: Stats } | { ok: false; problem: string } | undefined {
  try {
    checkAncestors(path, what, me);
  } catch (e) {
    return { ok: false, problem: toKeywayError(e).message };
  }
  const st = lstatOrUndefined(resolve(path));
  if (st === undefined) return undefined;
  const problem = ownDirProblem(path, st, me);
  return problem === undefined ? { ok: true, st } : { ok: false, problem: `${what} ${problem}` };
}
