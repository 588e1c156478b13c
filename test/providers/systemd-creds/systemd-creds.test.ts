import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretValue } from '../../../src/core/secret-value.js';
import { systemdCredsFactory } from '../../../src/providers/systemd-creds/index.js';
import { code as codeOf, req } from '../helpers.js';
import { credsFixture as fixture, PATH, skip } from './fixture.js';

// Binary values, fragments, a missing tool, hangs and oversized output are in ../contract.test.ts.
const SECRET = 'creds-s3cr3t-value';
const code = (c: string, text?: RegExp) => codeOf(c, text, SECRET);

test('a credential is found by name as NAME.cred and decrypts to the exact text or binary bytes', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('db-password', SECRET);
  const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\n\n')]);
  f.encrypt('blob', bytes);
  const p = f.provider();
  assert.equal((await p.lookup(req('db-password'))).expose().toString(), SECRET);
  assert.deepEqual((await p.lookup(req('blob'))).expose(), bytes);
  // A bare NAME file (no .cred suffix) is found too.
  f.encrypt('plain', 'x', { file: join(f.credDir, 'plain') });
  assert.equal((await p.lookup(req('plain'))).expose().toString(), 'x');
});

test('absolute paths work inside the credential directories and only with allow_any_path elsewhere', { skip }, async (t) => {
  const f = fixture(t);
  const inside = f.encrypt('in', SECRET);
  mkdirSync(join(f.dir, 'elsewhere'));
  const outside = f.encrypt('out', SECRET, { file: join(f.dir, 'elsewhere', 'out.cred') });
  assert.equal((await f.provider().lookup(req(inside))).expose().toString(), SECRET);
  await assert.rejects(f.provider().lookup(req(outside)), code('permission_denied', /outside the credential directories/));
  assert.equal((await f.provider({ allowAnyPath: true }).lookup(req(outside))).expose().toString(), SECRET);
  await assert.rejects(f.provider().lookup(req('../etc/shadow')), code('invalid_argument'));
});

test('a missing credential is not_found naming the directories', { skip }, async (t) => {
  const f = fixture(t);
  await assert.rejects(f.provider().lookup(req('nope')), code('not_found', new RegExp(`no credential nope in ${f.credDir}`)));
});

test('another host\'s key or another embedded name is permission_denied; ?name= accepts a renamed file', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('foreign', SECRET, { hostKey: join(f.dir, 'other-host.secret') });
  await assert.rejects(f.provider().lookup(req('foreign')), code('permission_denied', /cannot decrypt with this host's key/));
  f.encrypt('original', SECRET, { file: join(f.credDir, 'renamed.cred') });
  await assert.rejects(f.provider().lookup(req('renamed')), code('permission_denied', /encrypted under another name than "renamed"/));
  assert.equal((await f.provider().lookup(req('renamed', { name: 'original' }))).expose().toString(), SECRET);
});

test('a missing host key and an expired credential are failed_precondition', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('c', SECRET);
  await assert.rejects(f.provider({ hostKeyFile: join(f.dir, 'gone.secret') }).lookup(req('c')), code('failed_precondition', /host credential key is missing/));
  // A credential whose validity window is in the past.
  f.encrypt('old', SECRET, { extra: ['--timestamp=2020-01-01', '--not-after=2020-01-02'] });
  await assert.rejects(f.provider().lookup(req('old')), code('failed_precondition', /expired/));
});

test('version is a hash of the credential file and changes when it is re-encrypted', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('v', 'same');
  const p = f.provider();
  const a = await p.version(req('v'));
  assert.equal(await p.version(req('v')), a);
  f.encrypt('v', 'same');
  assert.notEqual(await p.version(req('v')), a);
  await assert.rejects(p.version(req('gone')), code('not_found'));
});

test('the command timeout stops a hanging systemd-creds', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('c', SECRET);
  const script = join(f.dir, 'slow');
  writeFileSync(script, '#!/bin/sh\nexec sleep 60\n');
  chmodSync(script, 0o755);
  await assert.rejects(f.provider({ binary: script, timeoutMs: 200 }).lookup(req('c')), code('timeout'));
});

test('store encrypts atomically into the first directory; list and delete see it', { skip }, async (t) => {
  const f = fixture(t);
  const p = f.provider();
  const bytes = Buffer.from([0, 10, 255, 13, 10]);
  await p.store({ path: 'new-cred', value: SecretValue.copyOf(bytes), options: {}, signal: new AbortController().signal });
  assert.ok(existsSync(join(f.credDir, 'new-cred.cred')));
  const viaCli = execFileSync('systemd-creds', ['decrypt', '--name=new-cred', join(f.credDir, 'new-cred.cred'), '-'], { env: { PATH, SYSTEMD_CREDENTIAL_SECRET: f.hostKey }, stdio: ['ignore', 'pipe', 'ignore'] });
  assert.deepEqual(viaCli, bytes, 'systemd-creds itself decrypts it');
  assert.deepEqual((await p.lookup(req('new-cred'))).expose(), bytes);
  f.encrypt('other', 'x');
  assert.deepEqual(await p.list({ signal: new AbortController().signal }), ['new-cred', 'other']);
  await p.delete(req('new-cred'));
  assert.deepEqual(await p.list({ signal: new AbortController().signal }), ['other']);
  await assert.rejects(p.delete(req('new-cred')), code('not_found'));
  // A failed encryption leaves the earlier file intact and no temp file behind.
  f.encrypt('keep', SECRET);
  const failing = join(f.dir, 'failing-encrypt');
  writeFileSync(failing, '#!/bin/sh\nfor a; do last=$a; done\necho partial > "$last"\necho "Failed to encrypt" >&2\nexit 1\n');
  chmodSync(failing, 0o755);
  await assert.rejects(f.provider({ binary: failing }).store({ path: 'keep', value: SecretValue.fromString('new'), options: {}, signal: new AbortController().signal }), code('internal', /status 1 \(Failed to encrypt\)/));
  assert.equal((await p.lookup(req('keep'))).expose().toString(), SECRET);
  assert.deepEqual(await p.list({ signal: new AbortController().signal }), ['keep', 'other']);
});

test('a null-key credential (tpm2-absent, no TPM) decrypts without any host key', { skip }, async (t) => {
  const f = fixture(t);
  execFileSync('systemd-creds', ['encrypt', '--name=nullkey', '--with-key=tpm2-absent', '-', join(f.credDir, 'nullkey.cred')], { env: { PATH }, input: SECRET, stdio: ['pipe', 'ignore', 'ignore'] });
  assert.equal((await f.provider({ hostKeyFile: join(f.dir, 'absent.secret') }).lookup(req('nullkey'))).expose().toString(), SECRET);
});

test('the factory defaults to systemd\'s credstore search path and rejects unknown options', { skip }, () => {
  const p = systemdCredsFactory.create('systemd-creds', systemdCredsFactory.configSchema.parse({}), {} as never);
  assert.equal(p.type, 'systemd-creds');
  assert.throws(() => systemdCredsFactory.configSchema.parse({ dirr: '/x' }));
  assert.throws(() => systemdCredsFactory.configSchema.parse({ dir: 'relative' }));
});
