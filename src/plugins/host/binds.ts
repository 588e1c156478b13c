// What a sandboxed plugin sees of the host: read-only binds, and masks over keyway's own files.
// Spelling does not matter: every bind is resolved (symlinks, `.`, `..`, `//`) and opened, the open
// directory is what gets bound (bubblewrap's --ro-bind-fd), and whether a protected object (state
// dir, db, key, config, runtime dir, sockets) lies beneath a bind is decided by device + inode of
// the object's ancestors, so another path to the same directory (a host bind mount, a submount
// carried along by the recursive bind) is masked too.
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';

/** Linux's O_PATH (not exported by Node): a handle on the directory itself, not its content. */
const O_PATH = 0o10000000;

/** Host directories a bind may never cover: the whole host, or its kernel interfaces. */
const FORBIDDEN = ['/proc', '/sys', '/dev'];

export interface HostBind {
  /** Resolved host path; also where it appears inside the sandbox. */
  readonly path: string;
  /** O_PATH descriptor of what is bound (undefined for the system directories, bound by path). */
  readonly fd?: number;
}

export interface Mask {
  /** Path inside the sandbox to cover. */
  readonly dest: string;
  readonly dir: boolean;
}

export interface SandboxView {
  readonly binds: readonly HostBind[];
  readonly masks: readonly Mask[];
  /** Closes the bind descriptors (after the sandbox has been spawned). */
  close(): void;
}

function under(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(dir + '/');
}

function key(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

function realOrThrow(path: string, what: string): string {
  if (!isAbsolute(path)) throw new KeywayError('invalid_argument', `${what} ${JSON.stringify(path)} must be an absolute path`);
  try {
    return realpathSync(path);
  } catch (e) {
    throw toKeywayError(e, `${what} ${path}`);
  }
}

/** Device+inode of `path` and of each of its ancestors, nearest first, with the ancestor's path. */
function ancestry(path: string): { path: string; key: string }[] {
  const out: { path: string; key: string }[] = [];
  let p = path;
  for (;;) {
    try {
      out.push({ path: p, key: key(lstatSync(p)) });
    } catch {
      // vanished: nothing below it to protect
    }
    if (p === '/') return out;
    p = dirname(p);
  }
}

/** Mount points strictly below `dir` (a recursive bind carries them along). */
function submounts(dir: string, mountinfo: readonly string[]): string[] {
  return mountinfo.filter((m) => m !== dir && under(m, dir));
}

function readMountPoints(): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  // Field 5 is the mount point, with space, tab, newline and backslash octal-escaped.
  return text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && m.startsWith('/'))
    .map((m) => m.replace(/\\([0-7]{3})/g, (_s, o: string) => String.fromCharCode(parseInt(o, 8))));
}

interface Protected {
  readonly real: string;
  readonly key: string;
  readonly dir: boolean;
  readonly chain: { path: string; key: string }[];
}

function protectedObjects(paths: readonly string[]): Protected[] {
  const out: Protected[] = [];
  for (const p of paths) {
    let real: string;
    let st: Stats;
    try {
      real = realpathSync(p);
      st = statSync(real);
    } catch {
      continue; // does not exist (yet): nothing to see
    }
    out.push({ real, key: key(st), dir: st.isDirectory(), chain: ancestry(real) });
  }
  return out;
}

/**
 * Resolves and checks the user binds. Refused: a bind that resolves to `/`, covers or sits in
 * /proc, /sys or /dev, or is itself (or lies inside) one of keyway's protected objects.
 */
export function resolveUserBinds(binds: readonly string[], hide: readonly string[]): string[] {
  const prot = protectedObjects(hide);
  const out: string[] = [];
  for (const b of binds) {
    const real = realOrThrow(b, 'ro_bind');
    if (real === '/') throw new KeywayError('invalid_argument', `ro_bind ${JSON.stringify(b)} resolves to "/", the whole host; bind only the directories the plugin needs`);
    const bad = FORBIDDEN.find((f) => under(real, f) || under(f, real));
    if (bad !== undefined) throw new KeywayError('invalid_argument', `ro_bind ${JSON.stringify(b)} resolves to ${real}, which covers or lies in ${bad}; plugins never see the host's kernel interfaces`);
    const mine = new Set(ancestry(real).map((a) => a.key));
    const hit = prot.find((p) => mine.has(p.key));
    if (hit) throw new KeywayError('permission_denied', `ro_bind ${JSON.stringify(b)} resolves to ${real}, which is keyway's own ${hit.real} or lies inside it; plugins never see keyway's state`);
    out.push(real);
  }
  // Parents before children, so a nested bind is not hidden by its parent's.
  return [...new Set(out)].sort((x, y) => x.length - y.length);
}

/**
 * Opens every bind and computes the masks: each protected object reachable below any bound
 * directory (system or user, or a submount of one) is covered at every place it appears.
 */
export function sandboxView(systemDirs: readonly string[], userBinds: readonly string[], hide: readonly string[]): SandboxView {
  const resolved = resolveUserBinds(userBinds, hide);
  const fds: number[] = [];
  const close = (): void => {
    for (const fd of fds.splice(0)) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    }
  };
  try {
    const binds: HostBind[] = systemDirs.flatMap((path) => {
      try {
        return lstatSync(path).isDirectory() ? [{ path }] : [];
      } catch {
        return [];
      }
    });
    for (const real of resolved) {
      const fd = openSync(real, O_PATH | fsc.O_NOFOLLOW);
      fds.push(fd);
      // The object opened must be the one resolved and checked (no swap in between).
      if (key(fstatSync(fd)) !== key(lstatSync(real))) throw new KeywayError('failed_precondition', `ro_bind ${real} changed while it was being checked`);
      binds.push({ path: real, fd });
    }
    const prot = protectedObjects(hide);
    // Every place a host directory appears inside the sandbox: the binds and their submounts.
    const visible: { dest: string; key: string }[] = [];
    const mounts = readMountPoints();
    for (const b of binds) {
      const st = b.fd !== undefined ? fstatSync(b.fd) : statSync(b.path);
      visible.push({ dest: b.path, key: key(st) });
      for (const m of submounts(b.path, mounts)) {
        try {
          visible.push({ dest: m, key: key(statSync(m)) });
        } catch {
          // unreachable mount point
        }
      }
    }
    const masks = new Map<string, Mask>();
    for (const p of prot) {
      for (const v of visible) {
        const anc = p.chain.find((a) => a.key === v.key);
        if (!anc) continue;
        const rest = p.real.slice(anc.path === '/' ? 0 : anc.path.length);
        const dest = v.dest === '/' ? rest : v.dest + rest;
        masks.set(dest, { dest, dir: p.dir });
      }
    }
    // Outer masks first; a mask inside a masked directory is then dropped (nothing left to hide).
    const sorted = [...masks.values()].sort((a, b) => a.dest.length - b.dest.length);
    const kept: Mask[] = [];
    for (const m of sorted) if (!kept.some((k) => k.dir && under(m.dest, k.dest))) kept.push(m);
    return { binds, masks: kept, close };
  } catch (e) {
    close();
    throw e;
  }
}
