// systemd socket activation of the plugin socket (deploy/systemd/keyway.socket): keyway serves on
// the descriptor it inherits and leaves the socket file to its owner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ensureTools, rootSkipReason } from '../../helpers/tools.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { activatedFd } from '../../../src/daemon/docker.js';
import { unmountRoot } from '../../../src/delivery/mount-root.js';
import { CLI, makeInstance } from '../../helpers/cli.js';
import { call } from './fixtures.js';

test('activatedFd follows sd_listen_fds: own pid only, by FileDescriptorName', () => {
  assert.equal(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'csi:docker' }, 'docker', 42), 4);
  assert.equal(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '2', LISTEN_FDNAMES: 'csi:docker' }, 'docker', 43), undefined);
  assert.equal(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '1' }, 'docker', 42), 3);
  assert.equal(activatedFd({ LISTEN_PID: '42', LISTEN_FDS: '1', LISTEN_FDNAMES: 'csi' }, 'docker', 42), undefined);
  assert.equal(activatedFd({}, 'docker', 42), undefined);
});

const skip = rootSkipReason('keyway serve mounts its delivery root') || ensureTools([['systemd-socket-activate', 'systemd']]);
if (skip) console.error(`socket activation test ${skip}`);

test('keyway serve answers on a socket passed by systemd and leaves the socket file in place', { skip }, async (t) => {
  const i = makeInstance('kw-sa-');
  const sock = join(i.dir, 'activated.sock');
  i.writeConfig(`[docker]\nenabled = true\nsocket = "${join(i.dir, 'unused.sock')}"\n[csi]\nenabled = false\n`);
  const pass = ['PATH', 'HOME', 'KEYWAY_STATE_DIR', 'KEYWAY_RUNTIME_DIR', 'KEYWAY_CONFIG'].flatMap((k) => ['-E', k]);
  const child = spawn('systemd-socket-activate', ['-l', sock, '--fdname=docker', ...pass, process.execPath, CLI, 'serve'], { env: i.env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  child.stderr.on('data', (b: Buffer) => (log += b.toString()));
  t.after(async () => {
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }
    await unmountRoot(i.runtimeDir).catch(() => undefined);
    i.cleanup();
  });
  const deadline = Date.now() + 10_000;
  while (!existsSync(sock)) {
    if (Date.now() > deadline) throw new Error(`no activation socket:\n${log}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  // The first connection starts keyway; the request waits in the socket's backlog meanwhile.
  const r = await call(sock, '/Plugin.Activate');
  assert.equal(r.status, 200, log);
  assert.deepEqual(r.body.Implements, ['VolumeDriver', 'secretprovider']);
  assert.equal(existsSync(join(i.dir, 'unused.sock')), false, 'the configured path is not bound when a socket is inherited');
});
