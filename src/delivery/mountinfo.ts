// Reads /proc/self/mountinfo to learn which filesystem (type and options) holds a path. Used to
// verify the mount root after mounting it and every time it is reused, and by `keyway doctor`.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
  /** Per-mount options (nosuid, nodev, noexec, ro ...). */
  readonly mountOptions: readonly string[];
  /** Per-superblock options (size=, mode=, noswap ...). */
  readonly superOptions: readonly string[];
}

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 4) continue;
    out.push({
      mountPoint: unescape(f[4] ?? ''),
      mountOptions: (f[5] ?? '').split(','),
      fsType: f[sep + 1] ?? '',
      source: unescape(f[sep + 2] ?? ''),
      superOptions: (f[sep + 3] ?? '').split(','),
    });
  }
  return out;
}

export function readMountInfo(file = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountInfo(readFileSync(file, 'utf8'));
}

function contains(mountPoint: string, path: string): boolean {
  if (mountPoint === '/') return true;
  return path === mountPoint || path.startsWith(mountPoint + '/');
}

/**
 * The mount that holds `path` (already free of symlinks): the longest containing mount point; among
 * mounts stacked on the same point, the last one listed is the visible one.
 */
export function mountOf(path: string, entries: readonly MountEntry[] = readMountInfo()): MountEntry | undefined {
  const p = resolve(path);
  let best: MountEntry | undefined;
  for (const e of entries) {
    if (!contains(e.mountPoint, p)) continue;
    if (best === undefined || e.mountPoint.length >= best.mountPoint.length) best = e;
  }
  return best;
}

/** The mount whose mount point is exactly `path`, if any (the top of a stack). */
export function mountAt(path: string, entries: readonly MountEntry[] = readMountInfo()): MountEntry | undefined {
  const p = resolve(path);
  let found: MountEntry | undefined;
  for (const e of entries) if (e.mountPoint === p) found = e;
  return found;
}

export function hasOption(e: MountEntry, opt: string): boolean {
  return e.superOptions.includes(opt) || e.mountOptions.includes(opt);
}
