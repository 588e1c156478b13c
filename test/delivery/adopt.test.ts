// Adoption after a restart: openDelivery takes over the sets a frontend still uses (claiming their
// records for this process) before it sweeps the orphans of dead owners.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { openDelivery } from '../../src/delivery/open.js';
import { MountSetManager } from '../../src/delivery/mount-sets.js';
import { openDb, type Db } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { ROOT_SKIP, sandbox, type Sandbox } from './helpers.js';

async function firstLife(t: TestContext): Promise<{ sb: Sandbox; db: Db; repo: MountSetsRepo; mgr: MountSetManager; dead: number }> {
  const sb = sandbox(t);
  const db = openDb(sb.stateDir);
  t.after(() => db.close());
  const { manager } = await openDelivery({ runtimeDir: sb.runtimeDir, db, logger: silentLogger() });
  // A pid that has exited: the sets below look like those of a keyway that died.
  const dead = spawnSync('true').pid;
  return { sb, db, repo: new MountSetsRepo(db), mgr: manager, dead };
}

const file = (v: string) => [{ name: 's', bytes: SecretValue.fromString(v) }];

void test('openDelivery adopts the named sets of a dead owner before its sweep, claims them for this process and sweeps the rest', { skip: ROOT_SKIP }, async (t) => {
  const { sb, db, repo, mgr, dead } = await firstLife(t);
  const kept = await mgr.create('docker:db/m1', file('kept'), { ownerPid: dead });
  const orphan = await mgr.create('docker:db/m2', file('orphan'), { ownerPid: dead });
  const after = await openDelivery({ runtimeDir: sb.runtimeDir, db, logger: silentLogger(), adopt: [kept.id, 'no-such-set'] });
  assert.deepEqual([...after.adopted.keys()], [kept.id]);
  assert.deepEqual(after.swept, [orphan.id]);
  assert.equal(readFileSync(join(kept.dir, 's'), 'utf8'), 'kept');
  assert.equal(repo.get(kept.id)?.ownerPid, process.pid, 'the record now names this process, so no other sweep takes it');
  assert.equal(existsSync(orphan.dir), false);
  const adopted = after.adopted.get(kept.id);
  assert.ok(adopted);
  assert.equal(after.manager.adopt(kept.id), adopted, 'adopting again returns the live set');
  await adopted.update(file('rotated'));
  assert.equal(readFileSync(join(kept.dir, 's'), 'utf8'), 'rotated');
  adopted.release();
  assert.equal(existsSync(kept.dir), false);
  assert.equal(repo.get(kept.id), undefined);
});

void test('adopting a set whose directory went with the tmpfs forgets its record; a planted symlink is not adopted', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, mgr, dead } = await firstLife(t);
  const gone = await mgr.create('docker:db/m1', file('x'), { ownerPid: dead });
  const planted = await mgr.create('docker:db/m2', file('y'), { ownerPid: dead });
  rmSync(gone.dir, { recursive: true, force: true });
  rmSync(planted.dir, { recursive: true, force: true });
  symlinkSync(sb.stateDir, planted.dir);
  const after = new MountSetManager({ root: mgr.root, repo, logger: silentLogger() });
  assert.equal(after.adopt(gone.id), undefined);
  assert.equal(repo.get(gone.id), undefined, 'the record of a vanished set is dropped');
  assert.equal(after.adopt(planted.id), undefined);
  assert.equal(repo.get(planted.id)?.ownerPid, dead, 'a set that is not a real directory is not claimed');
  rmSync(planted.dir);
});

void test('a record that places its set outside this root (another runtime dir, or not named by its id) is not adopted, claimed or forgotten', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, mgr, dead } = await firstLife(t);
  const set = await mgr.create('docker:db/m1', file('x'), { ownerPid: dead });
  const elsewhere = repo.insert({ id: 'elsewhere', consumer: 'docker:db/m2', path: join(sb.stateDir, 'elsewhere'), ownerPid: dead, spec: { files: [] } });
  // A real directory under the root, but not the one the record's id names.
  const other = join(mgr.root.path, 'not-misnamed');
  mkdirSync(other);
  t.after(() => rmSync(other, { recursive: true, force: true }));
  const misnamed = repo.insert({ id: 'misnamed', consumer: 'docker:db/m3', path: other, ownerPid: dead, spec: { files: [] } });
  const after = new MountSetManager({ root: mgr.root, repo, logger: silentLogger() });
  for (const rec of [elsewhere, misnamed]) {
    assert.equal(after.adopt(rec.id), undefined, rec.id);
    assert.equal(repo.get(rec.id)?.ownerPid, dead, `${rec.id} stays recorded for its own owner`);
  }
  assert.equal(readFileSync(join(set.dir, 's'), 'utf8'), 'x');
});
