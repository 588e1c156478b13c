import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../../src/core/errors.js';
import { selectPointer } from '../../../src/core/json-pointer.js';
import type { ProviderRequest } from '../../../src/core/provider.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { PassProvider, passFactory } from '../../../src/providers/pass/index.js';

const SECRET = 'pass-s3cr3t-value';
const PATH = '/usr/local/bin:/usr/bin:/bin';

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
const skip = have('pass') && have('gpg') ? false : 'pass and gpg are required (apt-get install pass gnupg)';

interface Fixture {
  readonly dir: string;
  readonly gnupgHome: string;
  readonly storeDir: string;
  readonly fpr: string;
  provider(extra?: Partial<ConstructorParameters<typeof PassProvider>[1]>): PassProvider;
  /** Runs pass directly, as a user would. */
  pass(args: string[], input?: Buffer | string): Buffer;
}

function gpgEnv(home: string): NodeJS.ProcessEnv {
  return { PATH, GNUPGHOME: home, LC_ALL: 'C' };
}

/** A throwaway GNUPGHOME with a no-passphrase key; returns the key's fingerprint. */
function makeKey(home: string, uid: string): string {
  mkdirSync(home, { mode: 0o700, recursive: true });
  execFileSync('gpg', ['--batch', '--passphrase', '', '--quick-gen-key', uid, 'future-default', 'default', 'never'], { env: gpgEnv(home), stdio: 'ignore' });
  const out = execFileSync('gpg', ['--list-keys', '--with-colons', uid], { env: gpgEnv(home) }).toString();
  const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(out)?.[1];
  assert.ok(fpr, 'key fingerprint');
  return fpr;
}

function fixture(t: { after: (fn: () => void) => void }): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'kw-pass-'));
  const gnupgHome = join(dir, 'gnupg');
  const storeDir = join(dir, 'store');
  t.after(() => {
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: gpgEnv(gnupgHome), stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  const fpr = makeKey(gnupgHome, 'keyway test <keyway@test.invalid>');
  const passEnv = { PATH, GNUPGHOME: gnupgHome, PASSWORD_STORE_DIR: storeDir, PASSWORD_STORE_GPG_OPTS: '--batch', HOME: dir };
  const pass = (args: string[], input?: Buffer | string): Buffer => execFileSync('pass', args, { env: passEnv, input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] });
  pass(['init', fpr]);
  return {
    dir,
    gnupgHome,
    storeDir,
    fpr,
    pass,
    provider: (extra = {}) => new PassProvider('pass', { storeDir, gnupgHome, home: dir, binary: 'pass', path: PATH, timeoutMs: 20_000, ...extra }),
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

test('lookup returns a text entry as stored by pass insert, and line=1 selects the password line', { skip }, async (t) => {
  const f = fixture(t);
  f.pass(['insert', '-m', 'web/site'], `${SECRET}\nuser: alice\nurl: https://x\n`);
  const p = f.provider();
  assert.equal((await p.lookup(req('web/site'))).expose().toString(), `${SECRET}\nuser: alice\nurl: https://x\n`);
  assert.equal((await p.lookup(req('web/site', { line: '1' }))).expose().toString(), SECRET);
  assert.equal((await p.lookup(req('web/site', { line: '2' }))).expose().toString(), 'user: alice');
  await assert.rejects(p.lookup(req('web/site', { line: '9' })), code('not_found', /no line 9/));
  await assert.rejects(p.lookup(req('web/site', { line: 'x' })), code('invalid_argument'));
});

test('binary content (every byte value, NUL and trailing newlines) comes back exactly', { skip }, async (t) => {
  const f = fixture(t);
  const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\n\n\0')]);
  f.pass(['insert', '-m', 'bin/blob'], bytes);
  assert.deepEqual((await f.provider().lookup(req('bin/blob'))).expose(), bytes);
});

test('a JSON entry supports fragment selection through selectPointer', { skip }, async (t) => {
  const f = fixture(t);
  f.pass(['insert', '-m', 'db'], JSON.stringify({ user: 'app', password: SECRET }));
  const v = await f.provider().lookup(req('db'));
  assert.equal(selectPointer(v, ['password'], 'ref+pass://db').expose().toString(), SECRET);
});

test('store, list and delete go through pass and keep exact bytes', { skip }, async (t) => {
  const f = fixture(t);
  const p = f.provider();
  const bytes = Buffer.from([0, 1, 2, 10, 255, 10]);
  await p.store({ path: 'a/b/c', value: SecretValue.copyOf(bytes), options: {}, signal: new AbortController().signal });
  await p.store({ path: 'a/d', value: SecretValue.fromString(SECRET), options: {}, signal: new AbortController().signal });
  assert.deepEqual(f.pass(['show', 'a/b/c']), bytes, 'readable by pass itself');
  assert.deepEqual((await p.lookup(req('a/b/c'))).expose(), bytes);
  assert.deepEqual(await p.list({ signal: new AbortController().signal }), ['a/b/c', 'a/d']);
  assert.deepEqual(await p.list({ prefix: 'a/b', signal: new AbortController().signal }), ['a/b/c']);
  await p.delete(req('a/b/c'));
  assert.ok(!existsSync(join(f.storeDir, 'a/b/c.gpg')));
  await assert.rejects(p.delete(req('a/b/c')), code('not_found'));
});

test('a missing entry, a directory and a sneaky path are refused before decrypting', { skip }, async (t) => {
  const f = fixture(t);
  f.pass(['insert', '-m', 'dir/x'], SECRET);
  const p = f.provider();
  await assert.rejects(p.lookup(req('nope')), code('not_found', /nope is not in the password store/));
  await assert.rejects(p.lookup(req('dir')), code('not_found'));
  await assert.rejects(p.lookup(req('../etc/passwd')), code('invalid_argument', /"\.\."/));
  await assert.rejects(p.lookup(req('-x')), code('invalid_argument', /"-"/));
});

test('an entry encrypted for someone else\'s key is permission_denied', { skip }, async (t) => {
  const f = fixture(t);
  // A second keyring whose secret key we do not have: export only its public key into ours.
  const otherHome = join(f.dir, 'other-gnupg');
  t.after(() => void spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: gpgEnv(otherHome), stdio: 'ignore' }));
  const other = makeKey(otherHome, 'other <other@test.invalid>');
  const pub = execFileSync('gpg', ['--export', other], { env: gpgEnv(otherHome) });
  execFileSync('gpg', ['--batch', '--import'], { env: gpgEnv(f.gnupgHome), input: pub, stdio: ['pipe', 'ignore', 'ignore'] });
  execFileSync('gpg', ['--batch', '--yes', '--trust-model', 'always', '-e', '-r', other, '-o', join(f.storeDir, 'theirs.gpg')], { env: gpgEnv(f.gnupgHome), input: SECRET });
  await assert.rejects(f.provider().lookup(req('theirs')), code('permission_denied', /no secret key/));
});

test('a missing store or a missing pass binary is unavailable', { skip }, async (t) => {
  const f = fixture(t);
  f.pass(['insert', '-m', 'x'], SECRET);
  await assert.rejects(f.provider({ storeDir: join(f.dir, 'unmounted') }).lookup(req('x')), code('unavailable', /does not exist/));
  await assert.rejects(f.provider({ binary: join(f.dir, 'no-such-pass') }).lookup(req('x')), code('unavailable', /not installed/));
});

test('version is a hash of the encrypted file and changes when the entry is rewritten', { skip }, async (t) => {
  const f = fixture(t);
  f.pass(['insert', '-m', 'v'], 'one');
  const p = f.provider();
  const a = await p.version(req('v'));
  assert.equal(await p.version(req('v')), a);
  f.pass(['insert', '-m', '-f', 'v'], 'two');
  assert.notEqual(await p.version(req('v')), a);
  await assert.rejects(p.version(req('gone')), code('not_found'));
});

test('cancellation and the command timeout kill the whole process group', { skip }, async (t) => {
  const f = fixture(t);
  writeFileSync(join(f.storeDir, 'slow.gpg'), 'x');
  // A stand-in for a pass that hangs (say, on a smartcard): it records its child's pid and waits.
  const script = join(f.dir, 'slow-pass');
  const pidFile = join(f.dir, 'pid');
  writeFileSync(script, `#!/bin/sh\nsleep 60 &\necho $! > ${pidFile}\nwait\n`);
  chmodSync(script, 0o755);
  // A killed process may linger as a zombie until its new parent reaps it: that counts as dead.
  const alive = (pid: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const waitForPid = async (): Promise<number> => {
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 10));
    return Number(readFileSync(pidFile, 'utf8').trim());
  };
  const ac = new AbortController();
  const pending = f.provider({ binary: script }).lookup(req('slow', {}, ac.signal));
  const pid = await waitForPid();
  ac.abort();
  await assert.rejects(pending, code('cancelled'));
  assert.equal(alive(pid), false, 'the grandchild was killed with the group');
  rmSync(pidFile);
  await assert.rejects(f.provider({ binary: script, timeoutMs: 300 }).lookup(req('slow')), code('timeout', /did not finish within 300 ms/));
  const pid2 = await waitForPid();
  assert.equal(alive(pid2), false);
});

test('the child gets a scrubbed environment, and the factory reads PASSWORD_STORE_DIR and GNUPGHOME', { skip }, async (t) => {
  const f = fixture(t);
  const script = join(f.dir, 'env-pass');
  writeFileSync(script, '#!/bin/sh\nenv | sort\n');
  chmodSync(script, 0o755);
  writeFileSync(join(f.storeDir, 'e.gpg'), 'x');
  process.env.KEYWAY_TEST_LEAK = 'must-not-be-inherited';
  t.after(() => delete process.env.KEYWAY_TEST_LEAK);
  const cfg = passFactory.configSchema.parse({ binary: script });
  const deps = { env: { PASSWORD_STORE_DIR: f.storeDir, GNUPGHOME: f.gnupgHome, HOME: f.dir, VAULT_TOKEN: 'nope' } } as unknown as Parameters<typeof passFactory.create>[2];
  const env = (await passFactory.create('pass', cfg, deps).lookup(req('e'))).expose().toString();
  const keys = env.trim().split('\n').map((l) => l.split('=')[0]).filter((k) => k !== 'PWD' && k !== 'SHLVL' && k !== '_');
  assert.deepEqual(keys, ['GNUPGHOME', 'HOME', 'LC_ALL', 'PASSWORD_STORE_DIR', 'PASSWORD_STORE_GPG_OPTS', 'PATH']);
  assert.match(env, new RegExp(`PASSWORD_STORE_DIR=${f.storeDir}`));
});
