// A total bound for a ramfs mount root. ramfs is never swapped (why keyway uses it where `noswap`
// tmpfs is refused, as in a user namespace) but has no size limit, so a flood of volumes could eat
// all memory. Before each write keyway counts the bytes already on the root (every set, every
// version kept) and refuses what would pass the cap: the same bound a tmpfs root gets from
// `size=`. Counting the files on the root, not a tally in this process, includes sets written by
// other keyway processes sharing the root (a `keyway run` beside `keyway serve`).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError } from '../core/errors.js';
import type { MountRootInfo } from './mount-root.js';

/** The default cap: 64 MiB, as a tmpfs root's default `size=64m`. */
export const DEFAULT_RAMFS_MAX_BYTES = 64 * 1024 * 1024;

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return []; // removed meanwhile, or a set dir this uid cannot list
  }
}

/** Bytes of regular files in the payload dirs of every set under `root` (nothing is followed). */
export function bytesOnRoot(root: string): number {
  let total = 0;
  for (const set of entries(root)) {
    const setDir = join(root, set);
    for (const payload of entries(setDir)) {
      if (!payload.startsWith('..')) continue;
      const pdir = join(setDir, payload);
      try {
        if (!lstatSync(pdir).isDirectory()) continue;
      } catch {
        continue;
      }
      for (const f of entries(pdir)) {
        try {
          const st = lstatSync(join(pdir, f));
          if (st.isFile()) total += st.size;
        } catch {
          // removed meanwhile
        }
      }
    }
  }
  return total;
}

function mib(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Refuses writing `adding` more bytes onto a ramfs root when the total would pass `maxBytes`. */
export function checkRamfsRoom(root: MountRootInfo, maxBytes: number, adding: number): void {
  if (root.fsType !== 'ramfs') return;
  const used = bytesOnRoot(root.path);
  if (used + adding > maxBytes) {
    throw new KeywayError(
      'too_large',
      `mount root ${root.path} is a ramfs (no size limit of its own): writing ${adding} bytes would bring it to ${mib(used + adding)}, over keyway's cap of ${mib(maxBytes)}; remove unused volumes or run sets with fewer or smaller secrets`,
    );
  }
}
