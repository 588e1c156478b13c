// Mount points under a test's temp dir, read from this process's mount table, so a fixture's
// teardown can unmount whatever a crashed container or daemon left there before removing the dir.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Mount points under `dir`, deepest first, from this process's mount table. */
export function mountsUnder(dir: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp === undefined) continue;
    const decoded = mp.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (decoded === dir || decoded.startsWith(dir + '/')) out.push(decoded);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything under `dir`, deepest first, until nothing is left (5 passes at most). */
export function unmountUnder(dir: string): void {
  for (let pass = 0; pass < 5; pass++) {
    const mps = mountsUnder(dir);
    if (mps.length === 0) return;
    for (const mp of mps) spawnSync('umount', ['-l', mp], { stdio: 'ignore' });
  }
}
