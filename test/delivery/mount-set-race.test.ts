// A consumer that owns its mount set directory (a volume with uid=) sees it through a bind mount,
// as a container does, and swaps keyway's payload directories for symlinks in a tight loop while
// keyway updates, reads and releases the set. Root's writes, wipes and reads must stay inside the
// set: a file outside it is neither created, zeroed, removed nor read back into the set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { run } from '../../src/delivery/exec.js';
import { ensureMountRoot } from '../../src/delivery/mount-root.js';
import { MountSetManager } from '../../src/delivery/mount-sets.js';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { localUser, spawnAs } from '../helpers/unprivileged.js';
import { ROOT_SKIP, sandbox } from './helpers.js';

const ROUNDS = 40;

// Every payload dir it sees is moved aside, replaced by a symlink to the target, then put back.
const SWAPPER = `
my $target = shift;
while (1) {
  opendir(my $d, ".") or next;
  for my $e (grep { /^\\.\\.\\d{4}_/ } readdir $d) {
    next unless rename $e, "hidden";
    symlink $target, $e;
    unlink $e;
    rename "hidden", $e;
  }
  closedir $d;
}
`;

void test('a consumer swapping payload dirs for symlinks never makes keyway write, wipe or read outside its set', { skip: ROOT_SKIP }, async (t) => {
  const consumer = localUser('keyway-attacker');
  const sb = sandbox(t);
  chmodSync(sb.base, 0o711);
  const root = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  const db = openDb(sb.stateDir);
  t.after(() => db.close());
  const mgr = new MountSetManager({ root, repo: new MountSetsRepo(db), logger: silentLogger() });
  const target = join(sb.base, 'target');
  mkdirSync(target, { mode: 0o755 });
  writeFileSync(join(target, 'victim'), 'precious', { mode: 0o644 });
  writeFileSync(join(target, 'a'), 'outside-a', { mode: 0o644 });

  const owner = { dirUid: consumer.uid, dirGid: consumer.gid, dirMode: 0o700 };
  const file = (v: string): { name: string; bytes: SecretValue; uid: number; gid: number } => ({ name: 'a', bytes: SecretValue.fromString(v), uid: consumer.uid, gid: consumer.gid });
  const set = await mgr.create('test:race', [file('v0')], owner);
  // The consumer's view of its set, as a container gets it.
  const view = join(sb.base, 'view');
  mkdirSync(view);
  assert.ok((await run('mount', ['--bind', set.dir, view])).ok);
  const swapper = spawnAs(consumer, 'perl', ['-e', SWAPPER, target], view);
  const reads: string[] = [];
  let updated = 0;
  try {
    for (let i = 1; i <= ROUNDS; i++) {
      try {
        await set.update([file(`v${i}`)]);
        updated++;
      } catch {
        // refused or failed: fine, as long as nothing outside changed
      }
      try {
        const v = set.read('a');
        reads.push(v.expose().toString());
        v.zero();
      } catch {
        // a read refused while the payload is swapped out is fine
      }
    }
    try {
      set.release();
    } catch {
      // likewise
    }
  } finally {
    swapper.kill('SIGKILL');
    if (swapper.exitCode === null && swapper.signalCode === null) await once(swapper, 'exit');
    await run('umount', ['-l', view]);
  }
  assert.deepEqual(readdirSync(target).sort(), ['a', 'victim']);
  assert.equal(readFileSync(join(target, 'victim'), 'utf8'), 'precious');
  assert.equal(readFileSync(join(target, 'a'), 'utf8'), 'outside-a');
  assert.ok(!reads.includes('outside-a'), 'read a file outside the set');
  t.diagnostic(`${updated} of ${ROUNDS} updates and ${reads.length} reads went through`);
});
