import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { KEEP_MS } from '../../src/delivery/atomic-writer.js';
import { ensureMountRoot } from '../../src/delivery/mount-root.js';
import { MountSetManager } from '../../src/delivery/mount-sets.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { silentLogger } from '../../src/core/logger.js';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { ROOT_SKIP, sandbox } from './helpers.js';

const SIZE = 4096;
const ROTATIONS = 1000;
const READERS = 4;

// Version i is 4 KiB of one byte, cycling through 1..255, so any mix of two versions is visible.
const versionBytes = (i: number): SecretValue => SecretValue.adopt(Buffer.alloc(SIZE, (i % 255) + 1));

void test('1,000 rotations under 4 concurrent readers: no reader sees a partial or mixed value or a missing file, and old versions are removed once no open can be under way', { skip: ROOT_SKIP, timeout: 120_000 }, async (t) => {
  const sb = sandbox(t);
  const root = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  const db = openDb(sb.stateDir);
  const mgr = new MountSetManager({ root, repo: new MountSetsRepo(db), logger: silentLogger() });
  const set = await mgr.create('stress', [{ name: 'value', bytes: versionBytes(0) }]);
  // One hook, in this order: hooks run first-registered-first, and release needs the open db.
  const readers: ChildProcess[] = [];
  t.after(() => {
    readers.forEach((r) => r.kill('SIGKILL'));
    set.release();
    db.close();
  });

  const stop = join(sb.base, 'stop');
  for (let i = 0; i < READERS; i++) {
    readers.push(spawn(process.execPath, [join(import.meta.dirname, 'fixtures', 'reader.mjs'), join(set.dir, 'value'), stop, join(sb.base, `r${i}.json`), String(SIZE)], { stdio: 'inherit' }));
  }
  // Every reader must be reading before the first swap.
  const deadline = Date.now() + 30_000;
  while (![...Array(READERS).keys()].every((i) => existsSync(join(sb.base, `r${i}.json.ready`)))) {
    assert.ok(Date.now() < deadline, 'readers did not start');
    await new Promise((r) => setTimeout(r, 10));
  }

  for (let i = 1; i <= ROTATIONS; i++) {
    await set.update([{ name: 'value', bytes: versionBytes(i) }]);
    // Yield now and then so the readers overlap many swaps.
    if (i % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  writeFileSync(stop, '');
  await Promise.all(readers.map(async (r) => (r.exitCode === null ? once(r, 'exit') : undefined)));

  let totalReads = 0;
  let retries = 0;
  for (let i = 0; i < READERS; i++) {
    const res = JSON.parse(readFileSync(join(sb.base, `r${i}.json`), 'utf8')) as { reads: number; enoent: number; bad: number; distinct: number; firstBad: unknown };
    retries += res.enoent;
    assert.equal(res.bad, 0, `reader ${i} saw a partial or mixed value: ${JSON.stringify(res.firstBad)}`);
    assert.ok(res.distinct > 1, `reader ${i} observed rotations`);
    totalReads += res.reads;
  }
  t.diagnostic(`${totalReads} whole reads, ${retries} ENOENT retries`);
  assert.ok(totalReads > ROTATIONS, `readers read ${totalReads} times`);
  // The swap is one rename(2) of ..data, and a replaced version stays for KEEP_MS, so a reader that
  // resolved ..data just before a swap still finds its file even when descheduled across several
  // swaps. Removing it at once (or at the next swap) gave a handful of ENOENT here under load; a
  // swap that unlinks ..data and then links the new version gives thousands.
  assert.equal(retries, 0, `${retries} reads found the file missing`);
  assert.equal(readFileSync(join(set.dir, 'value'))[0], (ROTATIONS % 255) + 1);
  // Versions superseded more than KEEP_MS ago go at the next swap: then only it and its predecessor stay.
  await new Promise((r) => setTimeout(r, KEEP_MS + 100));
  await set.update([{ name: 'value', bytes: versionBytes(ROTATIONS + 1) }]);
  assert.equal(readdirSync(set.dir).filter((e) => e.startsWith('..') && e !== '..data').length, 2);
});
