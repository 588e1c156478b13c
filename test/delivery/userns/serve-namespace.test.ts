import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE, makeRootlessUser, rootlessSkipReason, type RootlessUser } from '../../helpers/rootless.js';
import { scanFor } from '../../helpers/cli.js';

const SKIP = rootlessSkipReason() ?? false;
let user: RootlessUser;
let serve: ChildProcess | undefined;
let serveLog = '';
const value = Buffer.concat([randomBytes(32), Buffer.from([0, 10, 255]), Buffer.from(`CANARY-${randomBytes(8).toString('hex')}`)]);
const sha = createHash('sha256').update(value).digest('hex');

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; keyway serve said:\n${serveLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startServe(): Promise<void> {
  const sock = join(user.runtimeDir, 'docker.sock');
  const p = user.spawnKeyway(['serve']);
  p.stdout?.on('data', (d: Buffer) => (serveLog += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (serveLog += d.toString()));
  serve = p;
  await waitFor(() => serveLog.includes('keyway serving') && existsSync(sock), 'keyway serve to listen');
}

async function stopServe(): Promise<void> {
  const p = serve;
  if (p === undefined || p.exitCode !== null) return;
  const exited = once(p, 'exit');
  p.kill('SIGTERM');
  await exited;
  serve = undefined;
}

/** Lines of `ls` of keyway's mount root as Podman's namespace sees it. */
function liveSets(): string[] {
  return user.podman(['unshare', 'ls', '-A', join(user.runtimeDir, 'mounts')]).toString().split('\n').filter((l) => l !== '');
}

before(async () => {
  if (SKIP !== false) return;
  user = makeRootlessUser();
  const created = user.keyway(['secret', 'create', 'db', '-'], { input: value });
  assert.equal(created.status, 0, created.stderr.toString());
  // Rotation checks every second (the user's default config file).
  mkdirSync(join(user.home, '.config', 'keyway'), { recursive: true });
  writeFileSync(join(user.home, '.config', 'keyway', 'keyway.toml'), '[delivery]\nrefresh_interval_s = 1\n');
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, join(user.home, '.config', 'keyway')]);
  const setup = user.keyway(['podman', 'setup']);
  assert.equal(setup.status, 0, setup.stderr.toString());
  await startServe();
  user.podman(['volume', 'create', '--driver', 'keyway', '-o', 'secret=db', 'dbv']);
});

after(async () => {
  await stopServe().catch(() => undefined);
  user?.cleanup();
});

const inspect = 'sha256sum < /run/secrets/db; stat -c "%a" /run/secrets/db; grep " /run/secrets/db " /proc/self/mountinfo';

test("a limited user's keyway serve delivers a rootless Podman volume on ramfs to two containers at once, and no copy remains after", { skip: SKIP }, async () => {
  const ids = [0, 1].map((i) => user.podman(['run', '-d', '--name', `c${i}`, '-v', 'dbv:/run/secrets/db', IMAGE, 'sleep', '600']).toString().trim());
  for (const id of ids) {
    const [got, mode, mount = ''] = user.podman(['exec', id, 'sh', '-c', inspect]).toString().trim().split('\n');
    assert.equal(got?.split(' ')[0], sha, 'exact bytes in the container');
    assert.equal(mode, '400');
    const fsType = mount.split(' - ')[1]?.split(' ')[0];
    assert.ok(fsType === 'ramfs' || (fsType === 'tmpfs' && mount.includes('noswap')), `the mount source is RAM that never swaps: ${mount}`);
  }
  // Podman mounts a plugin volume once and counts its users itself: one set serves both.
  assert.equal(liveSets().length, 1, 'one set for the volume');
  user.podman(['rm', '--force', '--time', '0', ids[0] ?? '']);
  assert.equal(user.podman(['exec', ids[1] ?? '', 'sha256sum', '/run/secrets/db']).toString().split(' ')[0], sha, 'the other container still reads it');
  assert.equal(liveSets().length, 1, 'the set stays while a container uses it');
  user.podman(['rm', '--force', '--time', '0', ids[1] ?? '']);
  await waitFor(() => liveSets().length === 0, 'the sets to be wiped on Unmount');
  // Volume uid/gid/mode options are container ids: keyway chowns inside Podman's namespace.
  user.podman(['volume', 'create', '--driver', 'keyway', '-o', 'secret=db', '-o', 'uid=1000', '-o', 'gid=1001', '-o', 'mode=0440', 'dbu']);
  const owned = user.podman(['run', '--rm', '-v', 'dbu:/run/secrets/db', IMAGE, 'stat', '-c', '%u %g %a', '/run/secrets/db']).toString().trim();
  assert.equal(owned, '1000 1001 440');
  await waitFor(() => liveSets().length === 0, 'the sets to be wiped on Unmount');
  const needle = value.subarray(-24);
  assert.deepEqual(scanFor([join(user.home, '.local', 'share', 'containers'), user.stateDir, '/tmp', '/var/tmp'], needle), [], 'no copy on disk');
});

test("a restarted keyway serve adopts the set of a running rootless container and wipes it when the container stops", { skip: SKIP }, async () => {
  const id = user.podman(['run', '-d', '-v', 'dbv:/run/secrets/db', IMAGE, 'sleep', '600']).toString().trim();
  assert.equal(liveSets().length, 1);
  await stopServe();
  assert.equal(user.podman(['exec', id, 'sha256sum', '/run/secrets/db']).toString().split(' ')[0], sha, 'the container keeps its secret while keyway is down');
  serveLog = '';
  await startServe();
  assert.equal(liveSets().length, 1, `the restarted keyway did not sweep the live set:\n${serveLog}`);
  user.podman(['rm', '--force', '--time', '0', id]);
  await waitFor(() => liveSets().length === 0, 'the adopted set to be wiped on Unmount');
  assert.deepEqual(scanFor([join(user.home, '.local', 'share', 'containers'), user.stateDir], value.subarray(-24)), []);
});

test('a rootless directory volume follows a rotation in place while its container runs, and is wiped after', { skip: SKIP }, async () => {
  assert.equal(user.keyway(['secret', 'create', 'rot', '-'], { input: 'version-one' }).status, 0);
  user.podman(['volume', 'create', '--driver', 'keyway', '-o', 'secrets=rot', 'rotv']);
  const id = user.podman(['run', '-d', '-v', 'rotv:/run/secrets/d', IMAGE, 'sleep', '600']).toString().trim();
  const read = (): string => user.podman(['exec', id, 'cat', '/run/secrets/d/rot']).toString();
  assert.equal(read(), 'version-one');
  const replaced = user.keyway(['secret', 'create', 'rot', '-', '--replace'], { input: 'version-two' });
  assert.equal(replaced.status, 0, replaced.stderr.toString());
  await waitFor(() => read() === 'version-two', 'the running container to see the rotated value');
  user.podman(['rm', '--force', '--time', '0', id]);
  await waitFor(() => liveSets().length === 0, 'the set to be wiped on Unmount');
});

test("when rootless Podman's namespace is replaced, the user's keyway serve follows it into the new one", { skip: SKIP }, async () => {
  const pause = Number(readFileSync(join(user.xdgRuntimeDir, 'libpod', 'tmp', 'pause.pid'), 'utf8').trim());
  assert.ok(pause > 0);
  process.kill(pause, 'SIGKILL');
  await waitFor(() => serveLog.includes("joining Podman's new rootless namespace"), 'keyway to join the new namespace');
  await waitFor(() => serveLog.split("joining Podman's new rootless namespace")[1]?.includes('keyway serving') === true, 'keyway to serve again');
  const out = user.podman(['run', '--rm', '-v', 'dbv:/run/secrets/db', IMAGE, 'sh', '-c', inspect]).toString().trim().split('\n');
  assert.equal(out[0]?.split(' ')[0], sha, 'a container in the new namespace gets the volume');
  assert.match(out[2] ?? '', / - ramfs /);
});
