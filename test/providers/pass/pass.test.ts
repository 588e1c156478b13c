import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretValue } from '../../../src/core/secret-value.js';
import { passFactory } from '../../../src/providers/pass/index.js';
import { code as codeOf, req } from '../helpers.js';
import { passFixture as fixture, skip } from './fixture.js';

// Binary values, fragments, outages, hangs and oversized output are in ../contract.test.ts.
const SECRET = 'pass-s3cr3t-value';
const code = (c: string, text?: RegExp) => codeOf(c, text, SECRET);

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
  f.foreignEntry('theirs', SECRET);
  await assert.rejects(f.provider().lookup(req('theirs')), code('permission_denied', /no secret key/));
});

test('a missing store or a missing pass binary is unavailable, saying which', { skip }, async (t) => {
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
  // The grandchild closes its pipes (which settles the lookup) a moment before the kernel shows it
  // as exited: give it up to a second; without the group kill it would live for 60 s.
  const gone = async (pid: number): Promise<boolean> => {
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
    return !alive(pid);
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
  assert.equal(await gone(pid), true, 'the grandchild was killed with the group');
  rmSync(pidFile);
  await assert.rejects(f.provider({ binary: script, timeoutMs: 300 }).lookup(req('slow')), code('timeout', /did not finish within 300 ms/));
  const pid2 = await waitForPid();
  assert.equal(await gone(pid2), true);
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
