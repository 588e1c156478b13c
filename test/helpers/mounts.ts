// Mount points under a test's temp dir, read from this process's mount table, so a fixture's
// teardown can unmount whatever a crashed container or daemon left there before removing the dir.
import { spawnSync } from 'node:child_process';
import { readMountInfo } from '../../src/delivery/mountinfo.js';

/** Mount points under `dir`, deepest first, from this process's mount table. */
function mountsUnder(dir: string): string[] {
  let mps: string[];
  try {
    mps = readMountInfo().map((m) => m.mountPoint);
  } catch {
    return [];
  }
  return mps.filter((mp) => mp === dir || mp.startsWith(dir + '/')).sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything under `dir`, deepest first, until nothing is left (5 passes at most). */
export function unmountUnder(dir: string): void {
  for (let pass = 0; pass < 5; pass++) {
    const mps = mountsUnder(dir);
    if (mps.length === 0) return;
    for (const mp of mps) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  }
}
