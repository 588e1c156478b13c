import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { CLI, scanFor, type Instance, mountSetRecords, testInstance } from '../helpers/cli.js';
import { run as exec } from '../../src/delivery/exec.js';
import { ensureTools, rootSkipReason } from '../helpers/tools.js';

const ROOT_SKIP = rootSkipReason('keyway run mounts a tmpfs and needs root');
const CHILD = join(import.meta.dirname, '..', 'delivery', 'fixtures', 'child.mjs');

function inst(t: TestContext): Instance {
  return testInstance(t, 'keyway-run-');
}


const mounts = (i: Instance): string[] => readdirSync(join(i.runtimeDir, 'mounts'));

async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('the child of keyway run reads its secret from a noswap tmpfs dir, 0400, owned as requested, and nothing remains after exit', { skip: ROOT_SKIP }, (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 'db_password', '-'], { input: 'correct horse' }).status, 0);
  const out = join(i.dir, 'inspect.json');
  const r = i.run(['run', '--secret', 'db_password,uid=1234,gid=1235', '--', process.execPath, CHILD, 'inspect', 'db_password', out]);
  assert.equal(r.status, 0, r.stderr.toString());
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { dir: string; content: string; mode: number; uid: number; gid: number; mount: { fsType: string; options: string[] } };
  assert.equal(seen.content, 'correct horse');
  assert.equal(seen.mode, 0o400);
  assert.equal(seen.uid, 1234);
  assert.equal(seen.gid, 1235);
  assert.ok(seen.dir.startsWith(join(i.runtimeDir, 'mounts') + '/'));
  assert.ok(seen.mount.fsType === 'ramfs' || (seen.mount.fsType === 'tmpfs' && seen.mount.options.includes('noswap')), JSON.stringify(seen.mount));
  assert.equal(existsSync(seen.dir), false, 'the directory is gone');
  assert.deepEqual(mounts(i), []);
  assert.equal(mountSetRecords(i), 0, 'the mount set record is gone');
});

test('keyway run exits with the command status, and forwards SIGTERM to it', { skip: ROOT_SKIP }, async (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 's', '-'], { input: 'x' }).status, 0);
  assert.equal(i.run(['run', '--secret', 's', '--', 'sh', '-c', 'exit 9']).status, 9);
  assert.equal(i.run(['run', '--secret', 's', '--', 'sh', '-c', 'kill -KILL $$']).status, 137);
  const ready = join(i.dir, 'ready');
  const kw = spawn(process.execPath, [CLI, 'run', '--secret', 's', '--', process.execPath, CHILD, 'trap', 'SIGTERM', '17', ready], { env: i.env, stdio: 'ignore' });
  await waitFor(() => existsSync(ready), 'the command to start');
  kw.kill('SIGTERM');
  const [code] = (await once(kw, 'exit')) as [number | null];
  assert.equal(code, 17);
  assert.deepEqual(mounts(i), []);
  assert.equal(mountSetRecords(i), 0);
});

test('after keyway run is SIGKILLed while its command runs, the next keyway start sweeps the orphan', { skip: ROOT_SKIP }, async (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 's', '-'], { input: 'orphan-bytes' }).status, 0);
  const ready = join(i.dir, 'ready');
  const kw = spawn(process.execPath, [CLI, 'run', '--secret', 's', '--', process.execPath, CHILD, 'trap', 'SIGTERM', '0', ready], { env: i.env, stdio: 'ignore' });
  let childPid = 0;
  t.after(() => {
    try {
      if (childPid > 0) process.kill(childPid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  await waitFor(() => existsSync(ready) && readFileSync(ready, 'utf8').length > 0, 'the command to start');
  childPid = Number(readFileSync(ready, 'utf8'));
  kw.kill('SIGKILL');
  await once(kw, 'exit');
  const [orphan] = mounts(i);
  assert.ok(orphan, 'the set outlives a SIGKILLed keyway');
  assert.equal(mountSetRecords(i), 1);
  process.kill(childPid, 'SIGKILL');
  const next = i.run(['run', '--secret', 's', '--', 'true']);
  assert.equal(next.status, 0, next.stderr.toString());
  assert.deepEqual(mounts(i), [], 'the orphan was swept');
  assert.equal(mountSetRecords(i), 0);
});

test('a canary delivered through keyway run never reaches persistent disk or the logs', { skip: ROOT_SKIP }, (t) => {
  const i = inst(t);
  const canary = Buffer.from(`CANARY-${randomBytes(16).toString('hex')}`);
  assert.equal(i.run(['secret', 'create', 'canary', '-'], { input: canary }).status, 0);
  const out = join(i.dir, 'sha');
  const r = i.run(['--log-level', 'trace', 'run', '--secret', 'canary', '--', process.execPath, CHILD, 'sha256', 'canary', out]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(readFileSync(out, 'utf8'), createHash('sha256').update(canary).digest('hex'), 'the command got the canary');
  assert.ok(r.stderr.length > 0, 'trace logs were produced');
  for (const form of [canary, Buffer.from(canary.toString('base64')), Buffer.from(canary.toString('hex'))]) {
    assert.ok(!r.stdout.includes(form) && !r.stderr.includes(form), 'not in keyway output or logs');
    const hits = scanFor([i.stateDir, '/var/tmp', '/tmp'].filter((d) => existsSync(d)), form).filter((p) => !p.startsWith(join(i.runtimeDir, 'mounts') + '/'));
    assert.deepEqual(hits, [], 'not on persistent disk');
  }
});

test('path attacks in --secret are refused with a usage error and nothing is written', { skip: ROOT_SKIP }, (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 's', '-'], { input: 'x' }).status, 0);
  for (const spec of ['s,target=../../escape', 's,target=a/b', 's,target=..', 's,target=..data']) {
    const r = i.run(['run', '--secret', spec, '--', 'true']);
    assert.equal(r.status, 2, spec);
    assert.match(r.stderr.toString(), /^keyway: invalid_argument: --secret target .+\n$/);
  }
  assert.equal(existsSync(join(i.dir, 'escape')), false);
  assert.equal(existsSync(join(i.runtimeDir, 'escape')), false);
});

test('keyway run --watch=signal:HUP delivers a replaced secret and signals the command', { skip: ROOT_SKIP }, async (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 'pw', '-'], { input: 'one' }).status, 0);
  const log = join(i.dir, 'log');
  const kw = spawn(process.execPath, [CLI, 'run', '--watch=signal:HUP', '--refresh-interval', '1', '--secret', 'pw', '--', process.execPath, CHILD, 'log', 'pw', log], { env: i.env, stdio: 'ignore' });
  t.after(() => kw.kill('SIGKILL'));
  await waitFor(() => existsSync(log), 'the command to start');
  assert.equal(i.run(['secret', 'create', 'pw', '--replace', '-'], { input: 'two' }).status, 0);
  await waitFor(() => readFileSync(log, 'utf8').includes('two'), 'the rotated value');
  kw.kill('SIGTERM');
  const [code] = (await once(kw, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').at(-1), 'two');
  assert.deepEqual(mounts(i), []);
  assert.equal(mountSetRecords(i), 0);
});

const NOBODY = 65534;
const SETPRIV_SKIP = ROOT_SKIP || ensureTools([['setpriv', 'util-linux']]);

test('as a user without user namespaces, keyway run --allow-weak refuses a runtime dir on disk and reports a plain tmpfs honestly as weak', { skip: SETPRIV_SKIP }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-nonroot-'));
  const xdg = join(dir, 'xdg');
  t.after(async () => {
    await exec('umount', [xdg]);
    rmSync(dir, { recursive: true, force: true });
  });
  chownSync(dir, NOBODY, NOBODY);
  writeFileSync(join(dir, 'keyway.toml'), '');
  mkdirSync(xdg);
  const m = await exec('mount', ['-t', 'tmpfs', '-o', `mode=0700,uid=${NOBODY},gid=${NOBODY}`, 'test-xdg', xdg]);
  assert.ok(m.ok, m.stderr);
  // bubblewrap's --disable-userns: the kernel refuses keyway's own user namespace (docs/rootless.md).
  const noUserns = ['bwrap', '--unshare-user', '--disable-userns', '--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--'];
  const asNobody = (runtimeDir: string, args: string[], input = '') =>
    spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', ...(args[0] === 'secret' ? [] : noUserns), process.execPath, CLI, ...args], {
      input,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, KEYWAY_STATE_DIR: join(dir, 'state'), KEYWAY_RUNTIME_DIR: runtimeDir, KEYWAY_CONFIG: join(dir, 'keyway.toml') },
    });
  assert.equal(asNobody(join(dir, 'run'), ['secret', 'create', 's', '-'], 'nobody-secret').status, 0);

  const onDisk = asNobody(join(dir, 'run'), ['run', '--allow-weak', '--secret', 's', '--', 'true']);
  assert.equal(onDisk.status, 1);
  assert.match(onDisk.stderr.toString(), /^keyway: failed_precondition: mount root .* persistent filesystem/m);

  const out = join(dir, 'inspect.json');
  const weak = asNobody(join(xdg, 'keyway'), ['run', '--allow-weak', '--secret', 's', '--', process.execPath, CHILD, 'inspect', 's', out]);
  assert.equal(weak.status, 0, weak.stderr.toString());
  assert.match(weak.stderr.toString(), /weak/);
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { content: string; uid: number; mode: number; mount: { fsType: string; options: string[] } };
  assert.equal(seen.content, 'nobody-secret');
  assert.equal(seen.uid, NOBODY);
  assert.equal(seen.mode, 0o400);
  assert.equal(seen.mount.fsType, 'tmpfs');
  assert.deepEqual(readdirSync(join(xdg, 'keyway', 'mounts')), []);

  const doctor = asNobody(join(xdg, 'keyway'), ['doctor']);
  assert.equal(doctor.status, 0);
  assert.match(doctor.stdout.toString(), /^weak +mount root: .*not a mount point.*tmpfs without noswap/m);
  assert.match(doctor.stdout.toString(), /^verdict: weak$/m);
});
