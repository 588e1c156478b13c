import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { openDelivery } from '../../src/delivery/open.js';
import { runProcess, type RunProcessOptions } from '../../src/delivery/run-process.js';
import { parseEnvSpec, parseSecretSpec } from '../../src/delivery/run-spec.js';
import type { MountSet } from '../../src/delivery/mount-sets.js';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { FixedResolver } from './fixed-resolver.js';
import { ROOT_SKIP, sandbox, type Sandbox } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'child.mjs');

async function setup(t: TestContext) {
  const sb = sandbox(t);
  const db = openDb(sb.stateDir);
  t.after(() => db.close());
  const { manager } = await openDelivery({ runtimeDir: sb.runtimeDir, db, logger: silentLogger() });
  const resolver = new FixedResolver();
  resolver.set('db_password', 'hunter2', 'v1');
  const base = (over: Partial<RunProcessOptions>): RunProcessOptions => ({
    resolver,
    manager,
    logger: silentLogger(),
    secrets: [],
    command: process.execPath,
    baseEnv: { PATH: process.env.PATH },
    stdio: 'ignore',
    signalSource: new EventEmitter(),
    ...over,
  });
  return { sb, db, resolver, manager, repo: new MountSetsRepo(db), base };
}

const nothingLeft = (sb: Sandbox, repo: MountSetsRepo): void => {
  assert.deepEqual(readdirSync(join(sb.runtimeDir, 'mounts')), [], 'no mount set directory remains');
  assert.deepEqual(repo.list(), [], 'no mount set record remains');
};

const waitFor = async (cond: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

void test('the child reads its secret from CREDENTIALS_DIRECTORY on a noswap tmpfs, 0400, owned as requested, and nothing remains after exit', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, base } = await setup(t);
  const out = join(sb.base, 'inspect.json');
  const code = await runProcess(base({ secrets: [parseSecretSpec('db_password,uid=1234,gid=2345')], args: [CHILD, 'inspect', 'db_password', out] }));
  assert.equal(code, 0);
  const r = JSON.parse(readFileSync(out, 'utf8')) as { dir: string; content: string; mode: number; uid: number; gid: number; dirMode: number; mount: { fsType: string; options: string[] } };
  assert.equal(r.content, 'hunter2');
  assert.equal(r.mode, 0o400);
  assert.equal(r.uid, 1234);
  assert.equal(r.gid, 2345);
  assert.equal(r.dirMode, 0o700);
  assert.ok(r.mount.fsType === 'ramfs' || (r.mount.fsType === 'tmpfs' && r.mount.options.includes('noswap')), JSON.stringify(r.mount));
  assert.equal(existsSync(r.dir), false);
  nothingLeft(sb, repo);
});

void test('the exit status is propagated, and 128+N when the command dies of signal N', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, base } = await setup(t);
  assert.equal(await runProcess(base({ secrets: [parseSecretSpec('db_password')], args: [CHILD, 'exit', '7'] })), 7);
  assert.equal(await runProcess(base({ secrets: [parseSecretSpec('db_password')], args: [CHILD, 'selfkill', 'SIGTERM'] })), 143);
  nothingLeft(sb, repo);
});

void test('forwarded signals reach the command', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, base } = await setup(t);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
    const signals = new EventEmitter();
    const ready = join(sb.base, `ready-${sig}`);
    const p = runProcess(base({ secrets: [parseSecretSpec('db_password')], args: [CHILD, 'trap', sig, '42', ready], signalSource: signals }));
    await waitFor(() => existsSync(ready), `the child to trap ${sig}`);
    signals.emit(sig);
    assert.equal(await p, 42, sig);
  }
  nothingLeft(sb, repo);
});

void test('the environment carries a secret only for --env', { skip: ROOT_SKIP }, async (t) => {
  const { sb, base } = await setup(t);
  const out1 = join(sb.base, 'env1.json');
  await runProcess(base({ secrets: [parseSecretSpec('db_password')], args: [CHILD, 'env', 'DB_PASSWORD', out1] }));
  const r1 = JSON.parse(readFileSync(out1, 'utf8')) as { present: boolean };
  assert.equal(r1.present, false);
  assert.ok(!readFileSync(out1, 'utf8').includes('hunter2'));
  const out2 = join(sb.base, 'env2.json');
  await runProcess(base({ env: [parseEnvSpec('DB_PASSWORD=db_password')], args: [CHILD, 'env', 'DB_PASSWORD', out2] }));
  assert.equal((JSON.parse(readFileSync(out2, 'utf8')) as { value: string }).value, 'hunter2');
});

void test('a command that does not exist fails with not_found and leaves nothing behind', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, base } = await setup(t);
  await assert.rejects(runProcess(base({ secrets: [parseSecretSpec('db_password')], command: '/nonexistent/cmd' })), (e: Error & { code?: string }) => e.code === 'not_found' && /not found/.test(e.message));
  nothingLeft(sb, repo);
});

void test('a secret that cannot be resolved fails before anything is created', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, base } = await setup(t);
  await assert.rejects(runProcess(base({ secrets: [parseSecretSpec('db_password'), parseSecretSpec('missing')], args: [CHILD, 'exit', '0'] })), (e: Error & { code?: string }) => e.code === 'not_found');
  nothingLeft(sb, repo);
});

void test('--watch=signal:SIGHUP signals the command after a rotation, and it reads the new value', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, resolver, base } = await setup(t);
  const log = join(sb.base, 'log-signal');
  const signals = new EventEmitter();
  const p = runProcess(base({ secrets: [parseSecretSpec('db_password')], args: [CHILD, 'log', 'db_password', log], signalSource: signals, watch: { mode: { kind: 'signal', signal: 'SIGHUP' }, intervalMs: 50, jitter: 0 } }));
  await waitFor(() => existsSync(log), 'the first read');
  resolver.set('db_password', 'rotated', 'v2');
  await waitFor(() => readFileSync(log, 'utf8').includes('rotated'), 'the rotated read');
  signals.emit('SIGTERM');
  assert.equal(await p, 0);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['hunter2', 'rotated']);
  nothingLeft(sb, repo);
});

void test('--watch=restart restarts the command after a rotation with the new value in place', { skip: ROOT_SKIP }, async (t) => {
  const { sb, repo, resolver, base } = await setup(t);
  const log = join(sb.base, 'log-restart');
  const signals = new EventEmitter();
  let set: MountSet | undefined;
  const pids = new Set<number>();
  const p = runProcess(base({
    secrets: [parseSecretSpec('db_password')], args: [CHILD, 'log', 'db_password', log], signalSource: signals,
    watch: { mode: { kind: 'restart' }, intervalMs: 50, jitter: 0 },
    onReady: (s, c) => { set = s; pids.add(c.pid ?? 0); },
  }));
  await waitFor(() => existsSync(log), 'the first start');
  resolver.set('db_password', 'after-restart', 'v2');
  await waitFor(() => readFileSync(log, 'utf8').includes('after-restart'), 'the restarted command');
  signals.emit('SIGTERM');
  assert.equal(await p, 0);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['hunter2', 'after-restart']);
  assert.equal(set?.released, true);
  nothingLeft(sb, repo);
});
