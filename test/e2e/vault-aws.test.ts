// Issue 8 end to end: a Vault-backed and an AWS-backed secret, configured as [providers.*] pointing
// at the emulators, delivered by the built CLI through `keyway run` (both in one child) and through
// the real `keyway serve` Docker volume plugin, driven over its socket the way dockerd drives it.
// Checks exact bytes, file mode, that the host copy sits on keyway's noswap tmpfs, and that the
// values never reach the state dir, the logs or stderr.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanFor } from '../helpers/cli.js';
import { call } from '../frontends/docker-volume/fixtures.js';
import { keywayPlugin, type KeywayPlugin } from '../frontends/docker-volume/keyway-serve.js';
import { mountOf } from '../../src/delivery/mountinfo.js';
import { classifyMount } from '../../src/delivery/protection.js';
import { AwsEmulator } from '../emulators/aws/emulator.js';
import { VaultEmulator } from '../emulators/vault/server.js';
import { dockerSkipReason, startDockerd } from '../helpers/dockerd.js';
import { imageSkipReason, importDockerImage } from '../helpers/images.js';
import { rootSkipReason } from '../helpers/tools.js';

const skip = rootSkipReason('keyway serve and keyway run mount a tmpfs and need root');
if (skip) console.error(`e2e vault-aws: ${skip}`);
const dockerSkip = skip || dockerSkipReason() || imageSkipReason();
if (dockerSkip) console.error(`e2e vault-aws docker run: ${dockerSkip}`);

const CHILD = join(import.meta.dirname, '..', 'delivery', 'fixtures', 'child.mjs');
const VAULT_PW = `vault-e2e-${randomBytes(6).toString('hex')}`;
// Binary, with NUL and newline, so no text round trip can pass by accident.
const AWS_BIN = Buffer.concat([Buffer.from([0, 10, 255]), randomBytes(64), Buffer.from('aws-e2e-tail')]);
const AWS_TEXT = `aws-e2e-${randomBytes(6).toString('hex')}`;
const ID = 'c0ffee'.padEnd(64, '0');

let vault: VaultEmulator;
let aws: AwsEmulator;
let kw: KeywayPlugin;

before(async () => {
  if (skip) return;
  vault = await VaultEmulator.start();
  const kv = vault.state.mount('secret', 2);
  vault.state.putV2(kv, 'app', { password: VAULT_PW });
  vault.addAppRole('keyway', 'role-e2e', 'sid-e2e', ['app'], 600);
  vault.setPolicy('app', { 'secret/data/*': ['read'], 'secret/metadata/*': ['read'] });
  aws = await new AwsEmulator('eu-west-1').start();
  aws.addKey('AKIDE2E', 'e2e-secret-key');
  aws.putSecret('prod/bin', AWS_BIN);
  aws.putSecret('prod/app', JSON.stringify({ db: { password: AWS_TEXT } }));
  kw = keywayPlugin();
  const sid = join(kw.instance.dir, 'secret-id');
  writeFileSync(sid, 'sid-e2e\n', { mode: 0o600 });
  kw.instance.writeConfig(
    [
      '[docker]',
      'enabled = true',
      `socket = "${kw.socket}"`,
      '[csi]',
      'enabled = false',
      '[providers.vault]',
      'type = "vault"',
      `address = "${vault.url}"`,
      'auth = { method = "approle", role_id = "role-e2e", secret_id_file = "' + sid + '" }',
      '[providers.aws]',
      'type = "aws-sm"',
      'region = "eu-west-1"',
      `endpoint = "${aws.url}"`,
      '',
    ].join('\n'),
  );
  Object.assign(kw.instance.env, { AWS_ACCESS_KEY_ID: 'AKIDE2E', AWS_SECRET_ACCESS_KEY: 'e2e-secret-key', AWS_EC2_METADATA_DISABLED: 'true' });
  await kw.start();
});

after(async () => {
  if (skip) return;
  await kw?.cleanup();
  await aws?.stop();
  await vault?.close();
});

function assertNoTrace(where: string): void {
  for (const v of [Buffer.from(VAULT_PW), AWS_BIN, Buffer.from(AWS_TEXT)]) {
    assert.deepEqual(scanFor([kw.instance.stateDir], v), [], `${where}: a value reached the state dir`);
    assert.ok(!kw.logs().includes(v.toString('latin1')) && !Buffer.from(kw.logs()).includes(v), `${where}: a value reached the log`);
  }
}

test('keyway run delivers a Vault field and an AWS binary secret into one child with mode 0400', { skip }, async () => {
  const i = kw.instance;
  const outV = join(i.dir, 'v.json');
  const r = await i.runAsync(['run', '--secret', 'ref+vault://secret/app#/password,target=vault_pw', '--secret', 'ref+aws://prod/bin,target=aws_bin', '--', process.execPath, CHILD, 'inspect', 'vault_pw', outV]);
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(readFileSync(outV, 'utf8')) as { content: string; mode: number };
  assert.equal(seen.content, VAULT_PW);
  assert.equal(seen.mode, 0o400);
  const outA = join(i.dir, 'a.json');
  const r2 = await i.runAsync(['run', '--secret', 'ref+vault://secret/app#/password,target=vault_pw', '--secret', 'ref+aws://prod/bin,target=aws_bin', '--', process.execPath, CHILD, 'sha256', 'aws_bin', outA]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.match(readFileSync(outA, 'utf8'), new RegExp(createHash('sha256').update(AWS_BIN).digest('hex')));
  assert.ok(!r.stderr.includes(VAULT_PW) && !r2.stderr.includes(VAULT_PW));
  assertNoTrace('keyway run');
});

test('the Docker volume plugin of keyway serve mounts Vault and AWS secrets with exact bytes and mode from its tmpfs', { skip }, async () => {
  const s = kw.socket;
  const cases = [
    { name: 'vault-pw', opts: { ref: 'ref+vault://secret/app#/password', mode: '0440' }, bytes: Buffer.from(VAULT_PW), mode: 0o440 },
    { name: 'aws-bin', opts: { ref: 'ref+aws://prod/bin' }, bytes: AWS_BIN, mode: 0o400 },
    { name: 'aws-field', opts: { ref: 'ref+aws://prod/app#/db/password', mode: '0400', uid: '1234' }, bytes: Buffer.from(AWS_TEXT), mode: 0o400 },
  ];
  for (const c of cases) {
    const cr = await call(s, '/VolumeDriver.Create', { Name: c.name, Opts: c.opts });
    assert.equal(cr.status, 200, JSON.stringify(cr.body));
    const m = await call(s, '/VolumeDriver.Mount', { Name: c.name, ID });
    assert.equal(m.status, 200, `${c.name}: ${JSON.stringify(m.body)}\n${kw.logs().slice(-2000)}`);
    const mp = String(m.body.Mountpoint);
    const file = statSync(mp).isDirectory() ? join(mp, c.name) : mp;
    assert.deepEqual(readFileSync(file), c.bytes, `${c.name}: exact bytes`);
    assert.equal(statSync(file).mode & 0o777, c.mode, `${c.name}: mode`);
    const fs = mountOf(file);
    assert.ok(fs, `${c.name}: no mount holds ${file}`);
    assert.equal(classifyMount(fs).protection, 'secure', `${c.name}: ${fs.fsType} ${fs.superOptions.join(',')}`);
    assert.equal((await call(s, '/VolumeDriver.Unmount', { Name: c.name, ID })).status, 200);
    assert.equal(existsSync(file), false, `${c.name}: unmount wipes the file`);
  }
  // A missing secret and a stopped backend are clear errors naming the reference, never a value.
  assert.equal((await call(s, '/VolumeDriver.Create', { Name: 'aws-missing', Opts: { ref: 'ref+aws://prod/none' } })).status, 200);
  const miss = await call(s, '/VolumeDriver.Mount', { Name: 'aws-missing', ID });
  assert.equal(miss.status, 500);
  assert.match(String(miss.body.Err), /^keyway: not_found: .*prod\/none/);
  assertNoTrace('volume plugin');
  assert.ok(aws.calls.includes('secretsmanager.GetSecretValue'));
});

test('docker run reads the Vault and AWS secrets from keyway volumes, and dockerd keeps no copy in its data-root', { skip: dockerSkip }, async (t) => {
  const d = await startDockerd();
  t.after(() => d.stop());
  const img = importDockerImage(d.env);
  const ok = (r: { status: number | null; stderr: string }, what: string): void => assert.equal(r.status, 0, `${what}: ${r.stderr}\n--- keyway log ---\n${kw.logs().slice(-3000)}`);
  ok(d.docker(['volume', 'create', '-d', kw.name, '-o', 'ref=ref+vault://secret/app#/password', '-o', 'mode=0440', 'dv-vault']), 'volume create vault');
  ok(d.docker(['volume', 'create', '-d', kw.name, '-o', 'ref=ref+aws://prod/bin', 'dv-aws']), 'volume create aws');
  const r = d.docker(['run', '--rm', '--network', 'none', '-v', 'dv-vault:/run/secrets/pw:ro', img, 'sh', '-c', 'stat -c %a /run/secrets/pw; cat /run/secrets/pw']);
  ok(r, 'docker run vault');
  assert.equal(r.stdout.toString(), `440\n${VAULT_PW}`);
  const b = d.docker(['run', '--rm', '--network', 'none', '-v', 'dv-aws:/run/secrets/bin:ro', img, 'cat', '/run/secrets/bin']);
  ok(b, 'docker run aws');
  assert.deepEqual(b.stdout, AWS_BIN);
  for (const v of [Buffer.from(VAULT_PW), AWS_BIN]) assert.deepEqual(scanFor([d.dir], v), [], 'nothing in dockerd\'s data-root or exec-root');
  assertNoTrace('docker run');
});
