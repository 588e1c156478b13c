import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { scanFor, testInstance } from '../../helpers/cli.js';
import { AwsEmulator } from '../../emulators/aws/emulator.js';
import { CHILD, ROOT_SKIP, runDelivers } from '../run-child.js';

test('keyway run delivers an AWS Secrets Manager secret (a JSON field) from the emulator into the child', { skip: ROOT_SKIP }, async (t: TestContext) => {
  const emu = await new AwsEmulator('eu-west-1').start();
  emu.addKey('AKIDE2E', 'e2e-secret-key');
  const canary = 'aws-e2e-canary-4711';
  emu.putSecret('prod/app', JSON.stringify({ db: { password: canary } }));
  t.after(() => emu.stop());
  const i = testInstance(t, 'keyway-aws-run-');
  i.writeConfig(`[providers.aws]\ntype = "aws-sm"\nregion = "eu-west-1"\nendpoint = "${emu.url}"\n`);
  Object.assign(i.env, { AWS_ACCESS_KEY_ID: 'AKIDE2E', AWS_SECRET_ACCESS_KEY: 'e2e-secret-key', AWS_EC2_METADATA_DISABLED: 'true' });
  await runDelivers(i, 'ref+aws://prod/app#/db/password', canary);
  assert.deepEqual(scanFor([i.stateDir], Buffer.from(canary)), [], 'the value never reaches the state dir');
  assert.ok(emu.calls.includes('secretsmanager.GetSecretValue'));

  // A backend error reaches the user as one line naming the reference, with a non-zero exit.
  const missing = await i.runAsync(['run', '--secret', 'ref+aws://prod/none,target=x', '--', process.execPath, CHILD, 'exit', '0']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /not_found/);
  assert.match(missing.stderr, /prod\/none/);
});
