// Volume options and the volume registry (real SQLite), below the HTTP layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../../src/store/db.js';
import { VolumesRepo } from '../../../src/store/volumes.js';
import { MountSetsRepo } from '../../../src/store/mount-sets.js';
import { parseVolumeOptions, volumeFiles } from '../../../src/frontends/docker-volume/volume-options.js';

test('options parse into a source and delivery settings', () => {
  assert.equal(parseVolumeOptions('v', null), undefined);
  assert.equal(parseVolumeOptions('v', {}), undefined);
  assert.deepEqual(parseVolumeOptions('v', { ref: 'ref+vault://kv/a#/b', mode: '0440', uid: '1000', gid: '0' }), { source: { kind: 'ref', ref: 'ref+vault://kv/a#/b' }, mode: 0o440, uid: 1000, gid: 0 });
  assert.deepEqual(parseVolumeOptions('v', { mode: '400' }), { source: { kind: 'secret', name: 'v' }, mode: 0o400 });
  assert.deepEqual(parseVolumeOptions('v', { secrets: 'a, b' })?.source, { kind: 'secrets', names: ['a', 'b'] });
  assert.deepEqual(volumeFiles('v', { source: { kind: 'ref', ref: 'ref+x://y' } }), { single: true, files: [{ name: 'v', target: 'ref+x://y' }] });
  assert.equal(volumeFiles('v', { source: { kind: 'secrets', names: ['a'] } }).single, false);
});

test('bad options are refused naming the option', () => {
  assert.throws(() => parseVolumeOptions('v', { secrets: 'a,a' }), /names "a" twice/);
  assert.throws(() => parseVolumeOptions('v', { secrets: 'a,..' }), /must not be "\.\."/);
  assert.throws(() => parseVolumeOptions('v', { secrets: '' }), /is empty/);
  assert.throws(() => parseVolumeOptions('v', { mode: '0o400' }), /option mode/);
  assert.throws(() => parseVolumeOptions('v', { gid: '4294967295' }), /option gid/);
  assert.throws(() => parseVolumeOptions('v', { ref: 7 }), /must be a string/);
  assert.throws(() => parseVolumeOptions('v', ['x']), /Opts must be an object/);
  assert.throws(() => parseVolumeOptions('v', { timeout: 'soon' }), /option timeout/);
});

test('the registry keeps volumes and reference-counted mounts, and claims mount set records', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-vrepo-'));
  const db = openDb(dir);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const repo = new VolumesRepo(db);
  repo.create('v1', { ref: 'ref+x://y' });
  assert.throws(() => repo.create('v1', {}), /already exists/);
  assert.deepEqual(repo.get('v1')?.opts, { ref: 'ref+x://y' });
  repo.insertMount('v1', 'id1', 'set1');
  repo.setRefcount('v1', 'id1', 3);
  assert.equal(repo.getMount('v1', 'id1')?.refcount, 3);
  assert.equal(repo.listMounts('v1').length, 1);
  assert.equal(repo.deleteMount('v1', 'id1'), true);
  assert.equal(repo.delete('v1'), true);
  assert.equal(repo.list().length, 0);
  const sets = new MountSetsRepo(db);
  sets.insert({ id: 'abc', consumer: 'docker:v', path: '/run/x/abc', ownerPid: 1, spec: { files: [], ownerStart: 5 } });
  assert.equal(sets.claim('abc', process.pid, 77), true);
  assert.equal(sets.get('abc')?.ownerPid, process.pid);
  assert.equal(sets.get('abc')?.spec.ownerStart, 77);
  assert.equal(sets.claim('abc', process.pid, undefined), true);
  assert.equal(sets.get('abc')?.spec.ownerStart, undefined);
  assert.equal(sets.claim('nope', 1, 1), false);
});
