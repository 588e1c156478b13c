import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../../src/core/errors.js';
import { selectPointer } from '../../../src/core/json-pointer.js';
import type { ProviderRequest } from '../../../src/core/provider.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { SystemdCredsProvider, systemdCredsFactory, type SystemdCredsSettings } from '../../../src/providers/systemd-creds/index.js';

const SECRET = 'creds-s3cr3t-value';
const PATH = '/usr/local/bin:/usr/bin:/bin';
const skip = spawnSync('systemd-creds', ['--version'], { stdio: 'ignore' }).status === 0 ? false : 'systemd-creds is required (apt-get install systemd)';

interface Fixture {
  readonly dir: string;
  readonly credDir: string;
  readonly hostKey: string;
  /** Encrypts like a user would, with the test host key. */
  encrypt(name: string, value: Buffer | string, opts?: { file?: string; hostKey?: string; extra?: string[] }): string;
  provider(extra?: Partial<SystemdCredsSettings>): SystemdCredsProvider;
}

function fixture(t: { after: (fn: () => void) => void }): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'kw-creds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const credDir = join(dir, 'credstore');
  mkdirSync(credDir);
  const setup = (key: string): void => {
    // A private host key instead of /var/lib/systemd/credential.secret, so tests leave the host alone.
    execFileSync('systemd-creds', ['setup'], { env: { PATH, SYSTEMD_CREDENTIAL_SECRET: key }, stdio: 'ignore' });
  };
  const hostKey = join(dir, 'host.secret');
  setup(hostKey);
  return {
    dir,
    credDir,
    hostKey,
    encrypt(name, value, opts = {}) {
      const file = opts.file ?? join(credDir, `${name}.cred`);
      const key = opts.hostKey ?? hostKey;
      if (!existsSync(key)) setup(key);
      execFileSync('systemd-creds', ['encrypt', `--name=${name}`, '--with-key=host', ...(opts.extra ?? []), '-', file], { env: { PATH, SYSTEMD_CREDENTIAL_SECRET: key }, input: value, stdio: ['pipe', 'ignore', 'ignore'] });
      return file;
    },
    provider: (extra = {}) => new SystemdCredsProvider('systemd-creds', { dirs: [credDir], hostKeyFile: hostKey, withKey: 'host', allowAnyPath: false, binary: 'systemd-creds', path: PATH, timeoutMs: 20_000, ...extra }),
  };
}

function req(path: string, options: Record<string, string> = {}, signal = new AbortController().signal): ProviderRequest {
  return { path, options, signal };
}

function code(c: string, text?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof KeywayError, `expected KeywayError, got ${String(e)}`);
    assert.equal(e.code, c, e.message);
    if (text) assert.match(e.message, text);
    assert.ok(!e.message.includes(SECRET), 'message leaks the secret');
    return true;
  };
}

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

test('a JSON credential supports fragment selection through selectPointer', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('app', JSON.stringify({ db: { password: SECRET } }));
  const v = await f.provider().lookup(req('app'));
  assert.equal(selectPointer(v, ['db', 'password'], 'ref+systemd-creds://app').expose().toString(), SECRET);
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

test('a missing systemd-creds binary is unavailable', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('c', SECRET);
  await assert.rejects(f.provider({ binary: join(f.dir, 'no-such-tool') }).lookup(req('c')), code('unavailable', /not installed/));
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

test('cancellation and the command timeout stop a hanging systemd-creds', { skip }, async (t) => {
  const f = fixture(t);
  f.encrypt('c', SECRET);
  const script = join(f.dir, 'slow');
  writeFileSync(script, '#!/bin/sh\nexec sleep 60\n');
  chmodSync(script, 0o755);
  const ac = new AbortController();
  const pending = f.provider({ binary: script }).lookup(req('c', {}, ac.signal));
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(pending, code('cancelled'));
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
