// End to end: a Vault-backed secret through the built CLI (`keyway get`, `keyway run`), configured
// as `[providers.vault]` and served by the emulator in this process (so the CLI runs async).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanFor, testInstance, type Instance } from '../../helpers/cli.js';
import { VaultEmulator } from '../../emulators/vault/server.js';
import { ROOT_SKIP, runDelivers } from '../run-child.js';

const PASSWORD = 'e2e-vault-pw-7f3a';

async function setup(t: TestContext): Promise<{ i: Instance; emu: VaultEmulator; bytes: Buffer }> {
  const emu = await VaultEmulator.start();
  t.after(() => emu.close());
  const i = testInstance(t, 'keyway-vault-e2e-');
  const kv = emu.state.mount('secret', 2);
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, n) => 255 - n));
  emu.state.putV2(kv, 'app', { password: PASSWORD, blob: bytes.toString('base64') });
  emu.addAppRole('keyway', 'role-e2e', 'sid-e2e', ['app'], 600);
  emu.setPolicy('app', { 'secret/data/*': ['read'], 'secret/metadata/*': ['read'] });
  const sid = join(i.dir, 'secret-id');
  writeFileSync(sid, 'sid-e2e\n', { mode: 0o600 });
  i.writeConfig(`[providers.vault]\ntype = "vault"\naddress = "${emu.url}"\nauth = { method = "approle", role_id = "role-e2e", secret_id_file = "${sid}" }\n`);
  return { i, emu, bytes };
}

test('keyway get prints a Vault field selected by a fragment, and binary bytes via field+encoding', async (t) => {
  const { i, bytes } = await setup(t);
  const r = await i.runAsync(['get', 'ref+vault://secret/app#/password']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), PASSWORD);
  const b = await i.runAsync(['get', 'ref+vault://secret/app?field=blob&encoding=base64']);
  assert.equal(b.status, 0, b.stderr);
  assert.deepEqual(b.stdout, bytes);
  const missing = await i.runAsync(['get', 'ref+vault://secret/nope']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /not_found: .*no secret at secret\/nope/);
  assert.ok(!missing.stderr.includes(PASSWORD));
  assert.deepEqual(scanFor([i.stateDir], Buffer.from(PASSWORD)), [], 'nothing in the state dir holds the value');
});

test('keyway run delivers a Vault secret into the child\'s credentials directory', { skip: ROOT_SKIP }, async (t) => {
  const { i } = await setup(t);
  await runDelivers(i, 'ref+vault://secret/app#/password', PASSWORD);
});
