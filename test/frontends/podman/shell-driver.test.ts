// Acceptance: keyway as Podman's shell secret driver, against a real rootful Podman (private
// config and storage), with and without a running keyway daemon.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDbFile } from '../../../src/store/db.js';
import { CLI, makeInstance, scanFor, type Instance } from '../../helpers/cli.js';
import { IMAGE, makePodman, podmanSkipReason, type PodmanEnv } from '../../helpers/podman.js';

const skip = podmanSkipReason();
if (skip) process.stderr.write(`\n*** podman shell-driver tests ${skip} ***\n\n`);
const opts = { skip: skip ?? false };

let i: Instance;
let pm: PodmanEnv;

before(() => {
  if (skip) return;
  i = makeInstance('keyway-podman-kw-');
  pm = makePodman();
});

after(() => {
  pm?.cleanup();
  i?.cleanup();
});

function create(name: string, source: string, input: Buffer | string = '', extra: string[] = []) {
  return i.run(['podman', 'create', ...extra, name, source], { input, env: pm.env });
}

function readSecret(name: string, extra: string[] = []) {
  return pm.run(['run', '--rm', '--secret', name, ...extra, IMAGE, 'cat', `/run/secrets/${name}`]);
}

/** keyway's own records for Podman, read straight from its database. */
function keywayRows(): { secrets: unknown[]; blobs: unknown[] } {
  const db = openDbFile(join(i.stateDir, 'keyway.db'));
  try {
    return {
      secrets: db.prepare('SELECT id, ref, blob_id FROM podman_secrets ORDER BY id').all(),
      blobs: db.prepare('SELECT id, nonce FROM local_blobs ORDER BY id').all(),
    };
  } finally {
    db.close();
  }
}

function idOf(name: string): string {
  return pm.ok(['secret', 'inspect', '--format', '{{.ID}}', name]).toString().trim();
}

const BINARY = Buffer.concat([Buffer.from([0, 0, 1]), Buffer.from(Array.from({ length: 256 }, (_, k) => k)), Buffer.from([0])]);

test('a literal binary value with NUL bytes created through keyway is read back exactly by podman run --secret', opts, () => {
  const c = create('bin', '-', BINARY);
  assert.equal(c.status, 0, c.stderr.toString());
  assert.match(c.stdout.toString(), /^[0-9a-f]{25}\n$/, 'podman prints only the new id');
  const r = readSecret('bin');
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(r.stdout, BINARY);
  const rows = keywayRows().secrets as { id: string; ref: string | null; blob_id: string | null }[];
  const mine = rows.find((row) => row.id === idOf('bin'));
  assert.ok(mine && mine.ref === null && mine.blob_id !== null, 'kept as a local encrypted value');
});

test('a literal value never reaches keyway\'s state dir or runtime dir in plaintext', opts, () => {
  const canary = Buffer.from('CANARY-podman-plaintext-41c9e7');
  assert.equal(create('canary', '-', canary).status, 0);
  assert.deepEqual(readSecret('canary').stdout, canary);
  assert.deepEqual(scanFor([i.stateDir, i.runtimeDir], canary), []);
});

test('a 511,999-byte value round-trips; 512,000 bytes are refused before Podman stores anything', opts, () => {
  const big = Buffer.alloc(511_999);
  for (let k = 0; k < big.length; k++) big[k] = (k * 7919) & 0xff;
  const c = create('big', '-', big);
  assert.equal(c.status, 0, c.stderr.toString());
  const r = readSecret('big');
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.length, big.length);
  assert.ok(r.stdout.equals(big));
  const over = create('over', '-', Buffer.alloc(512_000, 1));
  assert.equal(over.status, 1);
  assert.match(over.stderr.toString(), /^keyway: too_large: /);
  assert.notEqual(pm.run(['secret', 'inspect', 'over']).status, 0, 'no podman secret was created');
});

test('a reference secret (with a JSON pointer) resolves at podman run, and its record holds only the reference', opts, () => {
  assert.equal(i.run(['secret', 'create', 'db', '-'], { input: '{"user":"app","password":"pw\\u0000tail"}' }).status, 0);
  const c = create('dbpw', 'ref+secret://db#/password');
  assert.equal(c.status, 0, c.stderr.toString());
  const r = readSecret('dbpw');
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(r.stdout, Buffer.from('pw\0tail'));
  const rows = keywayRows().secrets as { id: string; ref: string | null }[];
  assert.equal(rows.find((row) => row.id === idOf('dbpw'))?.ref, 'ref+secret://db#/password');
  // A reference is validated before Podman is asked: an unknown provider creates nothing.
  const bad = create('nope', 'ref+nosuchprovider://x');
  assert.equal(bad.status, 3);
  assert.match(bad.stderr.toString(), /keyway: not_found: no provider named "nosuchprovider"/);
  assert.notEqual(pm.run(['secret', 'inspect', 'nope']).status, 0);
});

test('type=env delivers a text value as an environment variable', opts, () => {
  assert.equal(create('token', '-', 'tok-123 with spaces').status, 0);
  const r = pm.run(['run', '--rm', '--secret', 'token,type=env,target=API_TOKEN', IMAGE, 'sh', '-c', 'echo "$API_TOKEN"']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), 'tok-123 with spaces\n');
});

test('podman secret ls and inspect show the secret with the shell driver and its labels', opts, () => {
  assert.equal(create('shown', '-', 'v', ['--label', 'team=infra']).status, 0);
  const ls = pm.ok(['secret', 'ls', '--format', '{{.Name}} {{.Driver}}']).toString();
  assert.match(ls, /^shown shell$/m);
  const info = JSON.parse(pm.ok(['secret', 'inspect', 'shown']).toString()) as { ID: string; Spec: { Name: string; Driver: { Name: string; Options: Record<string, string> }; Labels?: Record<string, string> } }[];
  assert.equal(info[0]?.Spec.Name, 'shown');
  assert.equal(info[0]?.Spec.Driver.Name, 'shell');
  assert.match(info[0]?.Spec.Driver.Options.lookup ?? '', /keyway-podman-lookup' .*\/dist\/cli\/podman-lookup\.js' /);
  assert.equal(info[0]?.Spec.Labels?.team, 'infra');
});

test('podman secret rm removes keyway\'s record and ciphertext', opts, () => {
  assert.equal(create('gone', '-', 'bye').status, 0);
  const id = idOf('gone');
  assert.ok(i.run(['podman', 'list']).stdout.toString().split('\n').includes(id));
  const blobsBefore = keywayRows().blobs.length;
  pm.ok(['secret', 'rm', 'gone']);
  assert.ok(!i.run(['podman', 'list']).stdout.toString().split('\n').includes(id));
  assert.equal(keywayRows().blobs.length, blobsBefore - 1);
});

test('replacing a secret (podman secret create --replace, or rm then create before Podman 4.7) leaves no stale record', opts, () => {
  assert.equal(create('rep', '-', 'one').status, 0);
  const first = idOf('rep');
  const blobsBefore = keywayRows().blobs.length;
  // Podman 4.7 added --replace (it sends the driver a Delete("") that keyway must tolerate, see the
  // CLI test); on older Podman the same replacement is rm then create. Both must end in one record.
  if (!pm.supports('--replace')) pm.ok(['secret', 'rm', 'rep']);
  const c = create('rep', '-', 'two', pm.supports('--replace') ? ['--replace'] : []);
  assert.equal(c.status, 0, c.stderr.toString());
  const second = idOf('rep');
  assert.notEqual(first, second);
  assert.equal(readSecret('rep').stdout.toString(), 'two');
  const ids = i.run(['podman', 'list']).stdout.toString().split('\n');
  assert.ok(ids.includes(second) && !ids.includes(first), 'the replaced id is gone from keyway');
  assert.equal(keywayRows().blobs.length, blobsBefore, 'the old ciphertext went with the old id');
});

test('a create that Podman or keyway refuses leaves neither with a record', opts, () => {
  assert.equal(create('dup', '-', 'first').status, 0);
  const before = keywayRows();
  const again = create('dup', '-', 'second');
  assert.notEqual(again.status, 0);
  assert.match(again.stderr.toString(), /dup/);
  const badRef = create('badref', '-', 'ref+nosuchprovider://x\n');
  assert.notEqual(badRef.status, 0);
  assert.match(badRef.stderr.toString(), /keyway: not_found: .*no provider named "nosuchprovider"/);
  assert.notEqual(pm.run(['secret', 'inspect', 'badref']).status, 0);
  assert.deepEqual(keywayRows(), before);
  assert.equal(readSecret('dup').stdout.toString(), 'first');
});

test('a reference whose provider fails makes podman run fail with keyway\'s message and leaves keyway\'s store unchanged', opts, () => {
  const c = create('broken', 'ref+local://no-such-blob');
  assert.equal(c.status, 0, c.stderr.toString());
  const before = keywayRows();
  const r = readSecret('broken');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.toString(), /keyway: not_found: local: no stored value "no-such-blob"/);
  assert.deepEqual(keywayRows(), before);
});

test('with keyway serve running, podman run reads through the daemon and still shows keyway\'s errors', opts, async (t) => {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const sock = join(i.runtimeDir, 'podman-lookup.sock');
  for (let k = 0; k < 200 && !existsSync(sock); k++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(sock), 'daemon lookup socket');
  assert.equal(create('fast', '-', BINARY).status, 0);
  const r = readSecret('fast');
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(r.stdout, BINARY);
  const bad = readSecret('broken');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.toString(), /keyway: not_found: local: no stored value "no-such-blob"/);
  const exited = new Promise((res) => child.on('exit', res));
  child.kill('SIGTERM');
  await exited;
});
