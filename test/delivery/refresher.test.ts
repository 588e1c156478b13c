import { test, mock, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { silentLogger } from '../../src/core/logger.js';
import { ensureMountRoot } from '../../src/delivery/mount-root.js';
import { MountSetManager, type MountSet } from '../../src/delivery/mount-sets.js';
import { Refresher } from '../../src/delivery/refresher.js';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { FixedResolver } from './fixed-resolver.js';
import { ROOT_SKIP, sandbox } from './helpers.js';

const identity = { frontend: 'test' };

async function setup(t: TestContext): Promise<{ set: MountSet; resolver: FixedResolver }> {
  const sb = sandbox(t);
  const root = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  const db = openDb(sb.stateDir);
  const mgr = new MountSetManager({ root, repo: new MountSetsRepo(db), logger: silentLogger() });
  const resolver = new FixedResolver();
  resolver.set('a', 'a-v1', '1');
  resolver.set('b', 'b-v1', '1');
  const set = await mgr.create('refresh', [{ name: 'a', bytes: SecretValue.fromString('a-v1') }, { name: 'b', bytes: SecretValue.fromString('b-v1'), mode: 0o440 }]);
  t.after(() => {
    set.release();
    db.close();
  });
  return { set, resolver };
}

const files = [{ name: 'a', target: 'a', version: '1' }, { name: 'b', target: 'b', version: '1' }];
const read = (set: MountSet, n: string): string => readFileSync(join(set.dir, n), 'utf8');

void test('refresh asks version() first and swaps only the files whose content changed, then calls onRotate', { skip: ROOT_SKIP }, async (t) => {
  const { set, resolver } = await setup(t);
  const rotated: (readonly string[])[] = [];
  const refresher = new Refresher({ resolver, logger: silentLogger() });
  const w = refresher.watch(set, files, { intervalMs: 3_600_000, identity, onRotate: (c) => void rotated.push(c) });
  t.after(() => w.stop());

  assert.deepEqual(await w.refresh(), []);
  assert.equal(resolver.resolveCalls, 0, 'unchanged versions cost no fetch');
  const payload = readlinkSync(join(set.dir, '..data'));

  resolver.set('a', 'a-v2', '2');
  assert.deepEqual(await w.refresh(), ['a']);
  assert.equal(resolver.resolveCalls, 1);
  assert.equal(read(set, 'a'), 'a-v2');
  assert.equal(read(set, 'b'), 'b-v1');
  assert.equal(set.files.find((f) => f.name === 'b')?.mode, 0o440, 'unchanged files keep their mode');
  assert.notEqual(readlinkSync(join(set.dir, '..data')), payload);
  assert.deepEqual(rotated, [['a']]);
});

void test('a new version token with identical bytes does not swap or notify', { skip: ROOT_SKIP }, async (t) => {
  const { set, resolver } = await setup(t);
  let notified = 0;
  const w = new Refresher({ resolver, logger: silentLogger() }).watch(set, files, { intervalMs: 3_600_000, identity, onRotate: () => void notified++ });
  t.after(() => w.stop());
  const payload = readlinkSync(join(set.dir, '..data'));
  resolver.set('b', 'b-v1', 'metadata-only');
  assert.deepEqual(await w.refresh(), []);
  assert.equal(readlinkSync(join(set.dir, '..data')), payload);
  assert.equal(notified, 0);
  assert.deepEqual(await w.refresh(), []);
  assert.equal(resolver.resolveCalls, 1, 'the new token is remembered');
});

void test('a failed refresh keeps the current content and reports the error', { skip: ROOT_SKIP }, async (t) => {
  const { set, resolver } = await setup(t);
  const errors: KeywayError[] = [];
  const w = new Refresher({ resolver, logger: silentLogger() }).watch(set, files, { intervalMs: 3_600_000, identity, onError: (e) => void errors.push(e) });
  t.after(() => w.stop());
  resolver.failWith = new KeywayError('unavailable', 'backend down');
  assert.deepEqual(await w.refresh(), []);
  assert.equal(errors[0]?.code, 'unavailable');
  assert.equal(read(set, 'a'), 'a-v1');
  resolver.failWith = undefined;
  resolver.set('a', 'a-v3', '3');
  assert.deepEqual(await w.refresh(), ['a']);
});

void test('the timer refreshes after the interval with jitter and stops when asked', { skip: ROOT_SKIP }, async (t) => {
  const { set, resolver } = await setup(t);
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  // random() = 1 would be +jitter; 0.75 gives interval * (1 + 0.2 * 0.5) = 1100 ms.
  const w = new Refresher({ resolver, logger: silentLogger(), random: () => 0.75 }).watch(set, files, { intervalMs: 1000, jitter: 0.2, identity });
  resolver.set('a', 'a-timer', '9');
  mock.timers.tick(1099);
  await flush();
  assert.equal(resolver.versionCalls, 0);
  mock.timers.tick(1);
  await flush();
  assert.equal(resolver.versionCalls, 2);
  assert.equal(read(set, 'a'), 'a-timer');
  mock.timers.tick(1100);
  await flush();
  assert.equal(resolver.versionCalls, 4, 'rescheduled after each run');
  w.stop();
  mock.timers.tick(5000);
  await flush();
  assert.equal(resolver.versionCalls, 4);
});

void test('a watch with interval 0 sets no timer and refreshes only when asked, as the volume driver\'s manual rotation does', { skip: ROOT_SKIP }, async (t) => {
  const { set, resolver } = await setup(t);
  const scheduled: number[] = [];
  const timers = { setTimeout: (_fn: () => void, ms: number) => scheduled.push(ms), clearTimeout: () => undefined };
  const w = new Refresher({ resolver, logger: silentLogger(), timers }).watch(set, files, { intervalMs: 0, identity });
  t.after(() => w.stop());
  assert.deepEqual(scheduled, []);
  resolver.set('a', 'a-v2', '2');
  assert.deepEqual(await w.refresh(), ['a']);
  assert.deepEqual(scheduled, [], 'a manual refresh does not start a timer either');
});

void test('a rotated file takes the named secret\'s own delivery mode when the watch sets none', { skip: ROOT_SKIP }, async (t) => {
  const { set, resolver } = await setup(t);
  const w = new Refresher({ resolver, logger: silentLogger() }).watch(set, [{ name: 'a', target: 'a', version: '1' }, { name: 'b', target: 'b', version: '1' }], { intervalMs: 0, identity });
  t.after(() => w.stop());
  resolver.set('a', 'a-v2', '2', { mode: 0o440 });
  assert.deepEqual(await w.refresh(), ['a']);
  assert.equal(set.files.find((f) => f.name === 'a')?.mode, 0o440);
  assert.equal(set.files.find((f) => f.name === 'b')?.mode, 0o440, 'an unchanged file keeps its mode');
});
