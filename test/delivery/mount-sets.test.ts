import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMountRoot } from '../../src/delivery/mount-root.js';
import { MountSetManager } from '../../src/delivery/mount-sets.js';
import { writeExclusive } from '../../src/delivery/atomic-writer.js';
import { run } from '../../src/delivery/exec.js';
import { mountOf } from '../../src/delivery/mountinfo.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { silentLogger } from '../../src/core/logger.js';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { ROOT_SKIP, sandbox, type Sandbox } from './helpers.js';

async function setup(t: TestContext): Promise<{ sb: Sandbox; mgr: MountSetManager; repo: MountSetsRepo }> {
  const sb = sandbox(t);
  const root = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  const db = openDb(sb.stateDir);
  t.after(() => db.close());
  const repo = new MountSetsRepo(db);
  return { sb, repo, mgr: new MountSetManager({ root, repo, logger: silentLogger() }) };
}

const sv = (s: string): SecretValue => SecretValue.fromString(s);
const isCode = (code: string, re?: RegExp) => (e: Error & { code?: string }) => e.code === code && (re === undefined || re.test(e.message));

void test('create writes each file 0400 with the requested owner in a 0700 dir on the noswap mount', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo } = await setup(t);
  const set = await mgr.create('test:1', [{ name: 'db_password', bytes: sv('hunter2'), uid: 1234, gid: 2345 }, { name: 'api.key', bytes: sv('k'), mode: 0o440 }]);
  assert.equal(readFileSync(join(set.dir, 'db_password'), 'utf8'), 'hunter2');
  const st = statSync(join(set.dir, 'db_password'));
  assert.equal(st.mode & 0o7777, 0o400);
  assert.equal(st.uid, 1234);
  assert.equal(st.gid, 2345);
  assert.equal(statSync(join(set.dir, 'api.key')).mode & 0o777, 0o440);
  assert.equal(statSync(set.dir).mode & 0o777, 0o700);
  assert.equal(readlinkSync(join(set.dir, 'db_password')), '..data/db_password');
  assert.ok(mountOf(set.dir)?.superOptions.includes('noswap'));
  const rec = repo.get(set.id);
  assert.equal(rec?.path, set.dir);
  assert.equal(rec?.ownerPid, process.pid);
  assert.deepEqual(rec?.spec.files.map((f) => f.name), ['db_password', 'api.key']);
  assert.ok(!JSON.stringify(rec).includes('hunter2'), 'no secret bytes in the record');
});

void test('release overwrites file contents with zeros before unlinking, and removes dir and record', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo } = await setup(t);
  const set = await mgr.create('test:2', [{ name: 'token', bytes: sv('AAAAAAAA') }]);
  const fd = openSync(join(set.dir, 'token'), 'r');
  set.release();
  set.release();
  const buf = Buffer.alloc(8);
  readSync(fd, buf, 0, 8, 0);
  closeSync(fd);
  assert.deepEqual(buf, Buffer.alloc(8), 'an fd held across release reads zeros');
  assert.equal(existsSync(set.dir), false);
  assert.equal(repo.get(set.id), undefined);
});

void test('update swaps the content through ..data and keeps the previous version for one more update', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo } = await setup(t);
  const set = await mgr.create('test:3', [{ name: 'a', bytes: sv('one') }, { name: 'b', bytes: sv('b1') }]);
  const before = readlinkSync(join(set.dir, '..data'));
  await set.update([{ name: 'a', bytes: sv('two') }, { name: 'c', bytes: sv('c1') }]);
  assert.equal(readFileSync(join(set.dir, 'a'), 'utf8'), 'two');
  assert.equal(readFileSync(join(set.dir, 'c'), 'utf8'), 'c1');
  assert.equal(existsSync(join(set.dir, 'b')), false);
  const entries = readdirSync(set.dir).sort();
  const payloads = entries.filter((e) => e.startsWith('..') && e !== '..data');
  assert.deepEqual(payloads, [before, readlinkSync(join(set.dir, '..data'))].sort());
  assert.deepEqual(entries.filter((e) => !e.startsWith('..')), ['a', 'c']);
  assert.deepEqual(repo.get(set.id)?.spec.files.map((f) => f.name), ['a', 'c']);
  assert.equal(set.read('a').expose().toString(), 'two');
});

void test('superseded versions stay readable for opens under way while later updates land', { skip: ROOT_SKIP }, async (t) => {
  const { mgr } = await setup(t);
  const set = await mgr.create('test:gen', [{ name: 'a', bytes: sv('version-1') }]);
  const v1 = readlinkSync(join(set.dir, '..data'));
  await set.update([{ name: 'a', bytes: sv('version-2') }]);
  await set.update([{ name: 'a', bytes: sv('version-3') }]);
  // A reader that resolved ..data two swaps ago still finds version 1, whole (removal: atomic-writer.test.ts).
  assert.equal(readFileSync(join(set.dir, v1, 'a'), 'utf8'), 'version-1');
  assert.equal(readFileSync(join(set.dir, 'a'), 'utf8'), 'version-3');
});

void test('file names with "/", "..", NUL or a leading ".." are refused and nothing is created', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo, sb } = await setup(t);
  for (const name of ['../escape', 'a/b', '..', '.', 'nul\0byte', '..data', '', 'x'.repeat(256)]) {
    await assert.rejects(mgr.create('test:4', [{ name, bytes: sv('s') }]), isCode('invalid_argument'), JSON.stringify(name));
  }
  assert.deepEqual(readdirSync(join(sb.runtimeDir, 'mounts')), []);
  assert.deepEqual(repo.list(), []);
  assert.equal(existsSync(join(sb.runtimeDir, 'escape')), false);
});

void test('a planted symlink at a file name makes update fail and leaves the previous version and the target intact', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, sb } = await setup(t);
  const set = await mgr.create('test:5', [{ name: 'cert', bytes: sv('v1') }]);
  const victim = join(sb.base, 'victim');
  writeFileSync(victim, 'untouched');
  unlinkSync(join(set.dir, 'cert'));
  symlinkSync(victim, join(set.dir, 'cert'));
  await assert.rejects(set.update([{ name: 'cert', bytes: sv('v2') }]), isCode('failed_precondition', /planted/));
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(readFileSync(join(set.dir, '..data', 'cert'), 'utf8'), 'v1');
});

void test('writeExclusive refuses to follow or replace a planted symlink or file', { skip: ROOT_SKIP }, async (t) => {
  const { sb } = await setup(t);
  const dir = join(sb.base, 'w');
  mkdirSync(dir);
  const victim = join(sb.base, 'victim2');
  writeFileSync(victim, 'untouched');
  symlinkSync(victim, join(dir, 'link'));
  writeFileSync(join(dir, 'file'), 'old');
  assert.throws(() => writeExclusive(join(dir, 'link'), Buffer.from('evil'), 0o400, 0, 0), isCode('failed_precondition', /planted/));
  assert.throws(() => writeExclusive(join(dir, 'file'), Buffer.from('evil'), 0o400, 0, 0), isCode('failed_precondition'));
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(readFileSync(join(dir, 'file'), 'utf8'), 'old');
});

void test('a failed create leaves no directory and no record behind', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo, sb } = await setup(t);
  await assert.rejects(mgr.create('test:6', [{ name: 'a', bytes: sv('1') }, { name: 'a', bytes: sv('2') }]), isCode('invalid_argument', /twice/));
  await assert.rejects(mgr.create('test:6', [{ name: 'a', bytes: sv('1'), mode: 0o1777 }]), isCode('invalid_argument'));
  assert.deepEqual(readdirSync(join(sb.runtimeDir, 'mounts')), []);
  assert.deepEqual(repo.list(), []);
});

void test('a single file path can be bind-mounted onto a file, as Docker does for single-secret volumes', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, sb } = await setup(t);
  const set = await mgr.create('test:7', [{ name: 'only', bytes: sv('single') }]);
  const target = join(sb.base, 'target-file');
  writeFileSync(target, '');
  const r = await run('mount', ['--bind', set.filePath('only'), target]);
  assert.ok(r.ok, r.stderr);
  try {
    assert.equal(readFileSync(target, 'utf8'), 'single');
    assert.ok(lstatSync(target).isFile());
  } finally {
    await run('umount', [target]);
  }
  assert.throws(() => set.filePath('other'), isCode('not_found'));
});

void test('sweepOrphans removes sets whose owner died and keeps those of live owners', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo } = await setup(t);
  const dead = spawnSync('true').pid;
  const orphan = await mgr.create('test:dead', [{ name: 's', bytes: sv('x') }], { ownerPid: dead });
  const alive = await mgr.create('test:alive', [{ name: 's', bytes: sv('y') }]);
  // A fresh manager, as after a restart: it knows only the records.
  const after = new MountSetManager({ root: mgr.root, repo, logger: silentLogger() });
  assert.deepEqual(after.sweepOrphans(), [orphan.id]);
  assert.equal(existsSync(orphan.dir), false);
  assert.equal(repo.get(orphan.id), undefined);
  assert.equal(readFileSync(join(alive.dir, 's'), 'utf8'), 'y');
  alive.release();
});

void test('a sweep limited to one kind of consumer leaves the orphans of other owners for them to adopt', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo } = await setup(t);
  const dead = spawnSync('true').pid;
  const volume = await mgr.create('docker:db/m1', [{ name: 's', bytes: sv('x') }], { ownerPid: dead });
  const runSet = await mgr.create('run:1', [{ name: 's', bytes: sv('y') }], { ownerPid: dead });
  const after = new MountSetManager({ root: mgr.root, repo, logger: silentLogger() });
  assert.deepEqual(after.sweepOrphans((c) => c.startsWith('run:')), [runSet.id]);
  assert.equal(readFileSync(join(volume.dir, 's'), 'utf8'), 'x');
  assert.deepEqual(after.sweepOrphans(), [volume.id]);
});

void test('creating a set after the mount root was replaced is refused', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, sb } = await setup(t);
  const r = await run('umount', ['-l', mgr.root.path]);
  assert.ok(r.ok);
  await assert.rejects(mgr.create('test:8', [{ name: 's', bytes: sv('x') }]), isCode('failed_precondition'));
  assert.deepEqual(readdirSync(join(sb.runtimeDir, 'mounts')), []);
});

void test('directory mode and owner can be opened up for a non-root container uid, and MCS levels are validated', { skip: ROOT_SKIP }, async (t) => {
  const { mgr } = await setup(t);
  const set = await mgr.create('test:9', [{ name: 's', bytes: sv('x'), uid: 1000, gid: 1000 }], { dirMode: 0o750, dirUid: 1000, dirGid: 1000 });
  for (const d of [set.dir, join(set.dir, readlinkSync(join(set.dir, '..data')))]) {
    const st = statSync(d);
    assert.equal(st.mode & 0o777, 0o750, d);
    assert.equal(st.uid, 1000);
  }
  set.release();
  await assert.rejects(mgr.create('test:9', [{ name: 's', bytes: sv('x') }], { selinuxLevel: 's0:c1;rm -rf' }), isCode('invalid_argument', /SELinux level/));
});

void test('an update that runs out of space fails cleanly: the previous version stays and no half-written payload remains', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  const root = await ensureMountRoot({ runtimeDir: sb.runtimeDir, size: '64k' });
  const db = openDb(sb.stateDir);
  const mgr = new MountSetManager({ root, repo: new MountSetsRepo(db), logger: silentLogger() });
  const set = await mgr.create('test:10', [{ name: 'v', bytes: sv('small') }]);
  t.after(() => {
    set.release();
    db.close();
  });
  const before = readdirSync(set.dir).sort();
  await assert.rejects(set.update([{ name: 'v', bytes: SecretValue.adopt(Buffer.alloc(256 * 1024, 0x62)) }]), isCode('too_large'));
  assert.deepEqual(readdirSync(set.dir).sort(), before);
  assert.equal(readFileSync(join(set.dir, 'v'), 'utf8'), 'small');
  await set.update([{ name: 'v', bytes: sv('next') }]);
  assert.equal(readFileSync(join(set.dir, 'v'), 'utf8'), 'next');
});

void test('a ..data link planted to point outside its set makes update fail, and neither update nor release touches the outside files', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, sb } = await setup(t);
  const set = await mgr.create('test:escape', [{ name: 'cert', bytes: sv('v1') }]);
  // An outside directory shaped like a payload, and a payload-looking name in a sibling path.
  const outside = join(sb.base, '..2026_01_01_00_00_00.000abcdef');
  mkdirSync(outside);
  writeFileSync(join(outside, 'cert'), 'victim');
  for (const target of [outside, `../${set.id}-other/..2026_01_01_00_00_00.000abcdef`]) {
    unlinkSync(join(set.dir, '..data'));
    symlinkSync(target, join(set.dir, '..data'));
    await assert.rejects(set.update([{ name: 'cert', bytes: sv('v2') }]), isCode('failed_precondition', /\.\.data points outside the mount set/));
    assert.equal(readFileSync(join(outside, 'cert'), 'utf8'), 'victim', 'the outside file was not rewritten');
  }
  set.release();
  assert.equal(existsSync(set.dir), false);
  assert.equal(readFileSync(join(outside, 'cert'), 'utf8'), 'victim', 'release unlinked the link and did not wipe what it pointed at');
});

void test('the orphan sweep leaves alone a record whose path is not directly under its own root', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo, sb } = await setup(t);
  const dead = spawnSync('true').pid;
  const elsewhere = join(sb.base, 'elsewhere');
  mkdirSync(join(elsewhere, 'x'), { recursive: true });
  writeFileSync(join(elsewhere, 'x', 'keep'), 'data');
  // Records a tampered or foreign store could hold: outside the root, nested under it, and a
  // sibling path that merely starts with the root's path.
  const paths = [join(elsewhere, 'x'), join(mgr.root.path, 'a', 'nested'), `${mgr.root.path}-evil/abc`];
  for (const [k, path] of paths.entries()) repo.insert({ id: `foreign${k}`, consumer: 'test:foreign', path, ownerPid: dead, spec: { files: [] } });
  assert.deepEqual(mgr.sweepOrphans(), []);
  assert.equal(readFileSync(join(elsewhere, 'x', 'keep'), 'utf8'), 'data');
  for (const k of paths.keys()) assert.ok(repo.get(`foreign${k}`), 'the record stays for the instance that owns that root');
});

void test('the orphan sweep tells a reused pid from the owner by its start time', { skip: ROOT_SKIP }, async (t) => {
  const { mgr, repo } = await setup(t);
  // The owner pid is alive (it is this process), but the recorded start time is not its own:
  // the pid was reused after the owner died, so the set is an orphan.
  const reused = await mgr.create('test:reused', [{ name: 's', bytes: sv('x') }]);
  const mine = await mgr.create('test:mine', [{ name: 's', bytes: sv('y') }]);
  const rec = repo.get(reused.id);
  assert.ok(rec && typeof rec.spec.ownerStart === 'number', 'the owner start time is recorded');
  repo.updateSpec(reused.id, { ...rec.spec, ownerStart: rec.spec.ownerStart - 1 });
  const after = new MountSetManager({ root: mgr.root, repo, logger: silentLogger() });
  assert.deepEqual(after.sweepOrphans(), [reused.id]);
  assert.equal(existsSync(reused.dir), false);
  assert.equal(readFileSync(join(mine.dir, 's'), 'utf8'), 'y', 'the same pid with its own start time is still the owner');
  mine.release();
});
