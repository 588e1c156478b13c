import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, kernelSupportsNoswap, runDoctor, socketCheck, type Check, type DoctorReport } from '../../src/delivery/doctor.js';
import { unmountRoot } from '../../src/delivery/mount-root.js';
import { mountAt } from '../../src/delivery/mountinfo.js';
import { localUser } from '../helpers/unprivileged.js';
import { rootSkipReason } from '../helpers/tools.js';

test('kernelSupportsNoswap is true from 6.4 on', () => {
  assert.equal(kernelSupportsNoswap('6.3.9-arch1'), false);
  assert.equal(kernelSupportsNoswap('6.4.0'), true);
  assert.equal(kernelSupportsNoswap('6.18.44-fc'), true);
  assert.equal(kernelSupportsNoswap('7.0.1'), true);
  assert.equal(kernelSupportsNoswap('5.15.0-91-generic'), false);
  assert.equal(kernelSupportsNoswap('garbage'), false);
});

test('formatReport prints one line per check and the verdict last', () => {
  const text = formatReport({ checks: [{ name: 'mount root', status: 'weak', detail: 'tmpfs without noswap' }, { name: 'bwrap', status: 'info', detail: 'not installed' }], verdict: 'weak' });
  assert.equal(text, 'weak     mount root: tmpfs without noswap\ninfo     bwrap: not installed\nverdict: weak\n');
});

test('a socket is secure at 0600, and at 0660 with group root (keyway.socket\'s default); other groups are weak and others insecure', { skip: rootSkipReason('needs root to chown a socket to group root and another group') }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-doctor-sock-'));
  const path = join(dir, 's.sock');
  const server = createServer();
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const grade = (mode: number, gid: number): string => {
    chmodSync(path, mode);
    chownSync(path, 0, gid);
    return socketCheck('docker', path).status;
  };
  assert.equal(grade(0o600, 0), 'secure');
  assert.equal(grade(0o660, 0), 'secure');
  assert.equal(grade(0o660, 1234), 'weak');
  assert.equal(grade(0o666, 0), 'insecure');
  assert.equal(socketCheck('docker', join(dir, 'absent.sock')).status, 'info');
});

const ROOT_SKIP = rootSkipReason('needs root to create and act as other users');

function dirs(t: TestContext): { base: string; runtimeDir: string; stateDir: string } {
  const base = mkdtempSync(join(tmpdir(), 'keyway-doctor-'));
  t.after(async () => {
    await unmountRoot(join(base, 'run')).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });
  return { base, runtimeDir: join(base, 'run'), stateDir: join(base, 'state') };
}

function doctor(d: { runtimeDir: string; stateDir: string }): Promise<DoctorReport> {
  return runDoctor({ runtimeDir: d.runtimeDir, stateDir: d.stateDir, keyFile: join(d.stateDir, 'local.key'), databaseFile: join(d.stateDir, 'keyway.db'), sockets: [], tools: [] });
}

function check(r: DoctorReport, name: string): Check {
  const c = r.checks.find((x) => x.name === name);
  assert.ok(c, `no ${name} check`);
  return c;
}

test('doctor calls a runtime dir owned by another user insecure and sets nothing up in it', { skip: ROOT_SKIP }, async (t) => {
  const other = localUser('keyway-attacker');
  const d = dirs(t);
  mkdirSync(d.runtimeDir, { mode: 0o700 });
  chownSync(d.runtimeDir, other.uid, other.gid);
  const r = await doctor(d);
  assert.equal(check(r, 'runtime dir').status, 'insecure');
  assert.match(check(r, 'runtime dir').detail, new RegExp(`owned by uid ${other.uid}, not keyway's uid 0.*fix:`));
  assert.equal(check(r, 'mount root').status, 'insecure');
  assert.match(check(r, 'mount root').detail, /not set up/);
  assert.equal(r.verdict, 'insecure');
  assert.deepEqual(readdirSync(d.runtimeDir), []);
  assert.equal(mountAt(join(d.runtimeDir, 'mounts')), undefined);
});

test('doctor calls a group-writable state dir, or one below a parent others can write, insecure', { skip: ROOT_SKIP }, async (t) => {
  const d = dirs(t);
  mkdirSync(d.stateDir);
  chmodSync(d.stateDir, 0o770);
  const r = await doctor(d);
  assert.equal(check(r, 'state dir').status, 'insecure');
  assert.match(check(r, 'state dir').detail, /mode 0770.*chmod 700/);
  chmodSync(d.stateDir, 0o700);
  chmodSync(d.base, 0o777);
  const r2 = await doctor(d);
  assert.equal(check(r2, 'state dir').status, 'insecure');
  assert.match(check(r2, 'state dir').detail, new RegExp(`${d.base} has mode 0777: group or others can rename entries in it`));
  chmodSync(d.base, 0o700);
  const r3 = await doctor(d);
  assert.equal(check(r3, 'state dir').status, 'secure');
  assert.equal(check(r3, 'runtime dir').status, 'secure');
});

test("doctor reports the host's core_pattern and keyway's core limit", async (t) => {
  const r = await doctor(dirs(t));
  const pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  assert.ok(check(r, 'core dumps').detail.includes(`core_pattern ${JSON.stringify(pattern)}`));
  assert.match(check(r, 'keyway core limit').detail, /core limit/);
});
