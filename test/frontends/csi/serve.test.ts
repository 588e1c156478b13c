import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scanFor, testInstance } from '../../helpers/cli.js';
import { attributes, dial, spawnServe } from './harness.js';

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
