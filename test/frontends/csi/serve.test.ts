import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, REPO, scanFor, testInstance } from '../../helpers/cli.js';
import { attributes, dial, spawnServe, waitFor } from './harness.js';

test('keyway serve (built) runs the CSI provider from [csi] and serves named secrets to the driver', async (t) => {
  const i = testInstance(t, 'keyway-csi-');
  const socket = join(i.dir, 'providers', 'keyway.sock');
  i.writeConfig(`[docker]\nenabled = false\n[csi]\nenabled = true\nsocket = "${socket}"\n`);
  const canary = 'CANARY-csi-serve-41';
  const token = 'SA-TOKEN-CANARY-serve';
  assert.equal(i.run(['secret', 'create', 'db-password', '-'], { input: canary }).status, 0);
  const { child, logs: output } = await spawnServe(t, i, socket, ['--log-level', 'trace']);
  assert.equal(statSync(socket).mode & 0o777, 0o600);

  const client = dial(socket);
  t.after(() => client.close());
  assert.equal((await client.version()).version, 'v1alpha1');
  const res = await client.mount({ attributes: attributes('- {objectName: db/password, secret: db-password, mode: "0440"}', {}, { vault: { token, expirationTimestamp: 'x' } }) });
  assert.deepEqual(res.files.map((f) => [f.path, f.mode, f.contents.toString()]), [['db/password', 0o440, canary]]);
  assert.equal(res.object_version[0]?.id, 'db/password');

  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  assert.ok(!existsSync(socket), 'socket removed on shutdown');
  const logs = output();
  assert.match(logs, /csi mount/);
  assert.ok(!logs.includes(canary) && !logs.includes(token), 'no secret or token in the logs');
  // Nothing on disk holds the value in clear or the token (the local store keeps only ciphertext).
  assert.deepEqual(scanFor([i.dir], Buffer.from(canary)), []);
  assert.deepEqual(scanFor([i.dir], Buffer.from(token)), []);
});

test('keyway serve loads gRPC, protobufjs and YAML only when the first CSI connection arrives', async (t) => {
  const i = testInstance(t, 'keyway-csi-');
  const socket = join(i.dir, 'providers', 'keyway.sock');
  i.writeConfig(`[docker]\nenabled = false\n[csi]\nenabled = true\nsocket = "${socket}"\n`);
  const log = join(i.dir, 'loaded.txt');
  const recorder = join(REPO, 'test', 'helpers', 'load-recorder.mjs');
  const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...i.env, KEYWAY_LOAD_LOG: log, NODE_OPTIONS: `--import=${recorder}` }, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  await waitFor(() => logs.includes('keyway serving') || child.exitCode !== null);
  const heavy = (): string[] => readFileSync(log, 'utf8').split('\n').filter((u) => /node_modules\/(@grpc|protobufjs|yaml)\//.test(u));
  assert.deepEqual(heavy(), [], 'loaded before any CSI connection');

  const client = dial(socket);
  t.after(() => client.close());
  assert.equal((await client.version()).version, 'v1alpha1');
  assert.ok(heavy().some((u) => u.includes('@grpc/grpc-js')), 'grpc-js loaded for the first connection');
});
