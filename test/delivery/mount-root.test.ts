import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMountRoot, mountRootPath, unmountRoot, verifyMountRoot } from '../../src/delivery/mount-root.js';
import { hasOption, mountAt, readMountInfo } from '../../src/delivery/mountinfo.js';
import { run } from '../../src/delivery/exec.js';
import { ROOT_SKIP, sandbox } from './helpers.js';
import { REPO } from '../helpers/cli.js';

void test('ensureMountRoot mounts a noswap tmpfs under the runtime dir and classifies it secure', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  const info = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  assert.equal(info.path, mountRootPath(sb.runtimeDir));
  assert.equal(info.protection, 'secure');
  assert.equal(info.isMountPoint, true);
  const m = mountAt(info.path);
  assert.ok(m, 'the root is a mount point');
  assert.equal(m.fsType, 'tmpfs');
  for (const o of ['noswap', 'nosuid', 'nodev', 'noexec', 'mode=700']) assert.ok(hasOption(m, o), `option ${o}`);
});

void test('ensureMountRoot reuses an existing mount instead of stacking a second one', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  await Promise.all([ensureMountRoot({ runtimeDir: sb.runtimeDir }), ensureMountRoot({ runtimeDir: sb.runtimeDir })]);
  await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  const stacked = readMountInfo().filter((e) => e.mountPoint === mountRootPath(sb.runtimeDir));
  assert.equal(stacked.length, 1);
});

void test('a mount root that is a symlink is refused and nothing is written to its target', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  const elsewhere = join(sb.base, 'elsewhere');
  mkdirSync(elsewhere);
  mkdirSync(sb.runtimeDir, { mode: 0o700 });
  symlinkSync(elsewhere, mountRootPath(sb.runtimeDir));
  await assert.rejects(ensureMountRoot({ runtimeDir: sb.runtimeDir }), (e: Error & { code?: string }) => e.code === 'failed_precondition' && /symlink/.test(e.message));
  assert.equal(mountAt(elsewhere), undefined);
  assert.deepEqual(readdirSync(elsewhere), []);
});

void test('a mount root replaced by a symlink after start-up fails verification', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  const info = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  await unmountRoot(sb.runtimeDir);
  rmdirSync(info.path);
  symlinkSync(sb.base, info.path);
  assert.throws(() => verifyMountRoot(info), (e: Error & { code?: string }) => e.code === 'failed_precondition' && /symlink/.test(e.message));
});

void test('a mount root on a persistent filesystem mount is refused', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  const disk = join(sb.base, 'disk');
  mkdirSync(disk);
  mkdirSync(mountRootPath(sb.runtimeDir), { recursive: true, mode: 0o700 });
  const r = await run('mount', ['--bind', disk, mountRootPath(sb.runtimeDir)]);
  assert.ok(r.ok, r.stderr);
  await assert.rejects(ensureMountRoot({ runtimeDir: sb.runtimeDir }), (e: Error & { code?: string }) => e.code === 'failed_precondition' && /expected tmpfs or ramfs/.test(e.message));
});

void test('without mounting, a root on disk is refused unless allowed, and then classified insecure', async (t) => {
  const sb = sandbox(t);
  await assert.rejects(ensureMountRoot({ runtimeDir: sb.runtimeDir, mount: false }), (e: Error & { code?: string }) => e.code === 'failed_precondition' && /persistent/.test(e.message));
  const info = await ensureMountRoot({ runtimeDir: sb.runtimeDir, mount: false, allowInsecure: true });
  assert.equal(info.isMountPoint, false);
  assert.equal(info.protection, 'insecure');
});

void test('without the right to mount, a root inside a plain tmpfs is classified weak and inside a noswap tmpfs secure', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  for (const [opts, expected] of [['mode=0700', 'weak'], ['noswap,mode=0700', 'secure']] as const) {
    const xdg = join(sb.base, `xdg-${expected}`);
    mkdirSync(xdg);
    const r = await run('mount', ['-t', 'tmpfs', '-o', opts, 'test-xdg', xdg]);
    assert.ok(r.ok, r.stderr);
    try {
      const info = await ensureMountRoot({ runtimeDir: join(xdg, 'keyway'), mount: false });
      assert.equal(info.isMountPoint, false);
      assert.equal(info.protection, expected);
    } finally {
      await run('umount', [xdg]);
    }
  }
});

void test('an existing ramfs mount root is accepted as secure', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  mkdirSync(mountRootPath(sb.runtimeDir), { recursive: true, mode: 0o700 });
  const r = await run('mount', ['-t', 'ramfs', '-o', 'mode=0700', 'test-ramfs', mountRootPath(sb.runtimeDir)]);
  assert.ok(r.ok, r.stderr);
  const info = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  assert.equal(info.fsType, 'ramfs');
  assert.equal(info.protection, 'secure');
});

void test('a cancelled start mounts nothing and fails as cancelled, not as a refused root', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  await assert.rejects(ensureMountRoot({ runtimeDir: sb.runtimeDir, signal: AbortSignal.abort() }), (e: Error & { code?: string }) => e.code === 'cancelled');
  assert.equal(mountAt(mountRootPath(sb.runtimeDir)), undefined);
});

void test('root without the right to mount is told why each mount failed, not to run as root', { skip: ROOT_SKIP }, (t) => {
  const sb = sandbox(t);
  // As in a container without CAP_SYS_ADMIN: root, but every mount is refused.
  const script = `
    import { ensureMountRoot } from ${JSON.stringify(join(REPO, 'src', 'delivery', 'mount-root.ts'))};
    await ensureMountRoot({ runtimeDir: ${JSON.stringify(sb.runtimeDir)} }).then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code, message: e.message })));`;
  const r = spawnSync('setpriv', ['--inh-caps=-sys_admin', '--bounding-set=-sys_admin', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const e = JSON.parse(r.stdout) as { code?: string; message?: string };
  assert.equal(e.code, 'failed_precondition');
  assert.match(e.message ?? '', /mounting one there failed \(tmpfs noswap, ramfs, tmpfs: mount: [^;]*permission denied\.\); give keyway the right to mount \(CAP_SYS_ADMIN\)/);
  assert.doesNotMatch(e.message ?? '', /run as root/);
  assert.equal(mountAt(mountRootPath(sb.runtimeDir)), undefined);
});
