import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeInstance, scanFor, type Instance, testInstance } from '../helpers/cli.js';
import { rootSkipReason } from '../helpers/tools.js';

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const LIMIT = 1024 * 1024;

function inst(t: { after: (fn: () => void) => void }): Instance {
  return testInstance(t);
}

function oneLineError(stderr: Buffer | string, code: string): void {
  const text = stderr.toString();
  assert.match(text, new RegExp(`^keyway: ${code}: .+\\n$`), text);
}

before(() => makeInstance().cleanup());

test('create from stdin and get return identical binary bytes, all 256 values', (t) => {
  const i = inst(t);
  const c = i.run(['secret', 'create', 'bin', '-'], { input: ALL_BYTES });
  assert.equal(c.status, 0, c.stderr.toString());
  assert.match(c.stdout.toString(), /^[0-9a-f]{25}\n$/);
  const g = i.run(['get', 'bin']);
  assert.equal(g.status, 0);
  assert.deepEqual(g.stdout, ALL_BYTES);
});

test('create from FILE with exactly the size limit round-trips; one byte more is refused', (t) => {
  const i = inst(t);
  const exact = Buffer.alloc(LIMIT, 0xab);
  exact[0] = 0;
  writeFileSync(join(i.dir, 'exact'), exact);
  writeFileSync(join(i.dir, 'over'), Buffer.alloc(LIMIT + 1, 1));
  assert.equal(i.run(['secret', 'create', 'exact', join(i.dir, 'exact')]).status, 0);
  assert.deepEqual(i.run(['get', 'exact']).stdout, exact);
  const over = i.run(['secret', 'create', 'over', join(i.dir, 'over')]);
  assert.equal(over.status, 1);
  oneLineError(over.stderr, 'too_large');
  const overStdin = i.run(['secret', 'create', 'over', '-'], { input: Buffer.alloc(LIMIT + 1, 1) });
  assert.equal(overStdin.status, 1);
  oneLineError(overStdin.stderr, 'too_large');
  assert.equal(i.run(['secret', 'exists', 'over']).status, 3);
});

test('get --out writes the exact bytes to a 0600 file', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 's', '-'], { input: ALL_BYTES });
  const out = join(i.dir, 'out.bin');
  assert.equal(i.run(['get', 's', '--out', out]).status, 0);
  assert.deepEqual(readFileSync(out), ALL_BYTES);
});

test('get --out into an existing file: a readable one is made 0600 before any byte lands, someone else\'s is refused and left as it was', { skip: rootSkipReason('needs root to give a file to another user') }, (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 's', '-'], { input: ALL_BYTES });
  const loose = join(i.dir, 'loose.bin');
  writeFileSync(loose, 'previous contents, longer than nothing');
  chmodSync(loose, 0o644);
  assert.equal(i.run(['get', 's', '--out', loose]).status, 0);
  assert.equal(statSync(loose).mode & 0o777, 0o600);
  assert.deepEqual(readFileSync(loose), ALL_BYTES);
  // A file another user owns: they could read the secret whatever its mode.
  const theirs = join(i.dir, 'theirs.bin');
  writeFileSync(theirs, 'their data', { mode: 0o600 });
  chownSync(theirs, 65534, 65534);
  for (const args of [['get', 's', '--out', theirs], ['--log-level=warn', 'get', 's', '--out', theirs]]) {
    const r = i.run(args);
    assert.equal(r.status, 1, r.stderr.toString());
    oneLineError(r.stderr, 'failed_precondition');
    assert.match(r.stderr.toString(), /belongs to uid 65534/);
  }
  assert.equal(readFileSync(theirs, 'utf8'), 'their data');
});

test('the plaintext never appears in the database, its WAL, or anything under the state dir', (t) => {
  const i = inst(t);
  const canary = Buffer.from('CANARY-plaintext-9d2f6c1e');
  for (let n = 0; n < 5; n++) assert.equal(i.run(['secret', 'create', `c${n}`, '-'], { input: canary }).status, 0);
  assert.equal(i.run(['secret', 'create', 'c0', '-', '--replace'], { input: canary }).status, 0);
  assert.equal(i.run(['secret', 'rm', 'c1']).status, 0);
  assert.deepEqual(i.run(['get', 'c2']).stdout, canary);
  assert.deepEqual(scanFor([i.stateDir, i.runtimeDir], canary), []);
});

test('a failing --replace leaves the old secret readable', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 's', '-'], { input: 'old-value' });
  const bad = i.run(['secret', 'create', 's', '--replace', '--ref', 'ref+nowhere://x']);
  assert.equal(bad.status, 3);
  oneLineError(bad.stderr, 'not_found');
  const malformed = i.run(['secret', 'create', 's', '--replace', '--ref', 'ref+local://']);
  assert.equal(malformed.status, 2);
  assert.equal(i.run(['get', 's']).stdout.toString(), 'old-value');
});

for (const bad of ['a/b', '..', '', 'x'.repeat(254), 'a=b', 'a,b']) {
  test(`invalid name ${JSON.stringify(bad.slice(0, 12))} gives a one-line invalid_argument error and exit 2`, (t) => {
    const i = inst(t);
    const r = i.run(['secret', 'create', bad, '-'], { input: 'v' });
    assert.equal(r.status, 2);
    oneLineError(r.stderr, 'invalid_argument');
  });
}

for (const ref of ['ref+local:/x', 'ref+LOCAL://x', 'ref+local://x#', 'ref+local://x?a']) {
  test(`malformed reference ${ref} gives a one-line error and exit 2`, (t) => {
    const i = inst(t);
    const r = i.run(['ref', 'check', ref]);
    assert.equal(r.status, 2);
    oneLineError(r.stderr, 'invalid_argument');
  });
}

test('ref check explains a valid reference without fetching it', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 'j', '-'], { input: '{"x":1}' });
  const r = i.run(['ref', 'check', 'ref+secret://j#/x']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stdout.toString(), /provider:\s+secret \(named secret\)/);
  assert.match(r.stdout.toString(), /selects:\s+\/x/);
  assert.match(r.stdout.toString(), /secret:\s+j -> local encrypted value/);
});

test('an unknown config key gives a one-line error naming it and exit 2', (t) => {
  const i = inst(t);
  i.writeConfig('[limits]\nmax_secret_bytez = 5\n');
  const r = i.run(['secret', 'ls']);
  assert.equal(r.status, 2);
  oneLineError(r.stderr, 'invalid_argument');
  assert.match(r.stderr.toString(), /limits\.max_secret_bytez/);
});

test('a corrupt key file gives a one-line error, exit 1, and is left as it was', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 's', '-'], { input: 'v' });
  const keyFile = join(i.stateDir, 'local.key');
  writeFileSync(keyFile, 'not-a-key\n');
  const r = i.run(['get', 's']);
  assert.equal(r.status, 1);
  oneLineError(r.stderr, 'failed_precondition');
  assert.match(r.stderr.toString(), /corrupt/);
  assert.equal(readFileSync(keyFile, 'utf8'), 'not-a-key\n');
});

test('a database with mode 0644 is refused with a one-line error and exit 1', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 's', '-'], { input: 'v' });
  chmodSync(join(i.stateDir, 'keyway.db'), 0o644);
  const r = i.run(['secret', 'ls']);
  assert.equal(r.status, 1);
  oneLineError(r.stderr, 'failed_precondition');
  assert.match(r.stderr.toString(), /chmod 600/);
});

test('ls, inspect, exists and rm follow the contract and exit codes', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 'a', '-', '--label', 'team=x', '--mode', '0440', '--uid', '1000'], { input: 'va' });
  i.run(['secret', 'create', 'b', '--ref', 'ref+secret://a'], { input: '' });
  const ls = JSON.parse(i.run(['secret', 'ls', '--format', 'json']).stdout.toString()) as Record<string, unknown>[];
  assert.deepEqual(ls.map((s) => s.Name), ['a', 'b']);
  assert.deepEqual(Object.keys(ls[0] ?? {}), ['ID', 'Name', 'Backend', 'Reference', 'Labels', 'Mode', 'UID', 'GID', 'CreatedAt', 'UpdatedAt']);
  assert.equal(ls[0]?.Mode, '0440');
  assert.equal(ls[1]?.Reference, 'ref+secret://a');
  assert.equal(i.run(['secret', 'ls', '--quiet', '--filter', 'label=team=x']).stdout.toString().trim().split('\n').length, 1);
  assert.equal(i.run(['secret', 'ls', '--noheading']).stdout.toString().trim().split('\n').length, 2);
  const ins = JSON.parse(i.run(['secret', 'inspect', 'a', '--showsecret']).stdout.toString()) as Record<string, unknown>[];
  assert.equal(Buffer.from(String(ins[0]?.SecretDataBase64), 'base64').toString(), 'va');
  assert.equal(i.run(['get', 'b']).stdout.toString(), 'va');
  assert.equal(i.run(['secret', 'exists', 'a']).status, 0);
  assert.equal(i.run(['secret', 'exists', 'zzz']).status, 3);
  assert.equal(i.run(['secret', 'inspect', 'zzz']).status, 3);
  assert.equal(i.run(['get', 'zzz']).status, 3);
  assert.equal(i.run(['secret', 'rm', 'zzz']).status, 3);
  assert.equal(i.run(['secret', 'rm', 'zzz', '--ignore']).status, 0);
  assert.equal(i.run(['secret', 'rm', '--all']).status, 0);
  assert.equal(i.run(['secret', 'ls', '-q']).stdout.toString(), '');
});

test('usage errors exit 2 and --help works on every command', (t) => {
  const i = inst(t);
  assert.equal(i.run(['frobnicate']).status, 2);
  assert.equal(i.run(['secret', 'create']).status, 2);
  assert.equal(i.run(['secret', 'create', 'x', '-', '--ref', 'ref+local://y']).status, 2);
  for (const cmd of [[], ['secret'], ['secret', 'create'], ['secret', 'ls'], ['secret', 'inspect'], ['secret', 'rm'], ['secret', 'exists'], ['get'], ['ref', 'check'], ['serve'], ['version']]) {
    const r = i.run([...cmd, '--help']);
    assert.equal(r.status, 0, `${cmd.join(' ')} --help`);
    assert.match(r.stdout.toString(), /Usage: keyway/);
  }
});

test('two concurrent creates with different names both succeed; with the same name exactly one wins', async (t) => {
  const i = inst(t);
  i.run(['secret', 'ls']); // create the database first so both racers open an existing one
  for (let round = 0; round < 3; round++) {
    const diff = await Promise.all([i.runAsync(['secret', 'create', `x${round}`, '-'], { input: 'a' }), i.runAsync(['secret', 'create', `y${round}`, '-'], { input: 'b' })]);
    assert.deepEqual(diff.map((r) => r.status), [0, 0], diff.map((r) => r.stderr).join(''));
    const same = await Promise.all([i.runAsync(['secret', 'create', `z${round}`, '-'], { input: 'a' }), i.runAsync(['secret', 'create', `z${round}`, '-'], { input: 'b' })]);
    assert.deepEqual(same.map((r) => r.status).sort(), [0, 1]);
    const loser = same.find((r) => r.status === 1);
    assert.match(loser?.stderr ?? '', /^keyway: already_exists: /);
    const winner = same.findIndex((r) => r.status === 0);
    assert.equal(i.run(['get', `z${round}`]).stdout.toString(), winner === 0 ? 'a' : 'b');
  }
});

test('a setuid, setgid or sticky --mode is refused at create, naming the mode in octal, and nothing is stored', (t) => {
  const i = inst(t);
  for (const mode of ['4755', '2750', '1700', '04400']) {
    const r = i.run(['secret', 'create', 's', '-', '--mode', mode], { input: 'v' });
    assert.equal(r.status, 2, `--mode ${mode}`);
    oneLineError(r.stderr, 'invalid_argument');
    assert.match(r.stderr.toString(), new RegExp(`--mode: 0${mode.replace(/^0/, '')} is not allowed: a secret file mode is 0000-0777`));
    assert.doesNotMatch(r.stderr.toString(), /\b(2541|1512|960|2304)\b/, 'never the decimal value');
  }
  assert.equal(i.run(['secret', 'ls', '-q']).stdout.toString(), '');
  assert.equal(i.run(['secret', 'create', 's', '-', '--mode', '0640'], { input: 'v' }).status, 0);
  assert.equal(i.run(['secret', 'inspect', '--format', '{{.Mode}}', 's']).stdout.toString(), '0640\n');
});

test('secret rm with neither names nor --all is a usage error, and with both too', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 'a', '-'], { input: 'va' });
  const none = i.run(['secret', 'rm']);
  assert.equal(none.status, 2);
  oneLineError(none.stderr, 'invalid_argument');
  assert.match(none.stderr.toString(), /give the secret names \(or ids\) to remove, or --all/);
  assert.equal(i.run(['secret', 'rm', 'a', '--all']).status, 2);
  assert.equal(i.run(['secret', 'exists', 'a']).status, 0, 'nothing was removed');
});

test('secret inspect prints the secrets it found and fails naming the missing ones, as Podman does', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 'db', '-'], { input: 'v' });
  const r = i.run(['secret', 'inspect', 'db', 'nosuch', 'other']);
  assert.equal(r.status, 3);
  const found = JSON.parse(r.stdout.toString()) as { Name: string }[];
  assert.deepEqual(found.map((s) => s.Name), ['db']);
  assert.match(r.stderr.toString(), /^keyway: not_found: no secret named "nosuch", "other"\n$/);
});

test('secret rm naming one secret twice removes it once, then fails naming it as missing', (t) => {
  const i = inst(t);
  const id = i.run(['secret', 'create', 'db', '-'], { input: 'v' }).stdout.toString().trim();
  const r = i.run(['secret', 'rm', 'db', id.slice(0, 12)]);
  assert.equal(r.status, 3, r.stderr.toString());
  assert.equal(r.stdout.toString(), `${id}\n`);
  assert.equal(r.stderr.toString(), `keyway: not_found: no secret named "${id.slice(0, 12)}"\n`);
  assert.equal(i.run(['secret', 'exists', 'db']).status, 3);
});

test('--format takes Go-template field references on ls and inspect, alongside table and json', (t) => {
  const i = inst(t);
  i.run(['secret', 'create', 'a', '-', '--label', 'team=x', '--mode', '0440'], { input: 'va' });
  i.run(['secret', 'create', 'b', '--ref', 'ref+secret://a']);
  assert.equal(i.run(['secret', 'ls', '--format', '{{.Name}}']).stdout.toString(), 'a\nb\n');
  assert.equal(i.run(['secret', 'ls', '--format', '{{.Name}}\\t{{.Backend}} {{.Labels.team}}', '--filter', 'name=a']).stdout.toString(), 'a\tlocal x\n');
  assert.equal(i.run(['secret', 'ls', '--format', 'table {{.Name}}\\t{{.Mode}}']).stdout.toString(), 'NAME\tMODE\na\t0440\nb\t<no value>\n');
  assert.equal(i.run(['secret', 'ls', '--noheading', '--format', 'table {{.Name}}']).stdout.toString(), 'a\nb\n');
  assert.equal(i.run(['secret', 'inspect', 'b', '--format', '{{.Reference}} {{json .Labels}}']).stdout.toString(), 'ref+secret://a {}\n');
  const ids = i.run(['secret', 'ls', '-q']).stdout.toString();
  assert.equal(i.run(['secret', 'ls', '--format', '{{.ID}}']).stdout.toString(), ids);
  for (const [fmt, why] of [['{{.Nope}}', /has no field "Nope"/], ['{{range .}}x{{end}}', /\{\{range \.\}\} is not supported/], ['{{.Name', /without a closing/], ['yaml', /expected table, json or a template/]] as const) {
    const r = i.run(['secret', 'ls', '--format', fmt]);
    assert.equal(r.status, 2, fmt);
    oneLineError(r.stderr, 'invalid_argument');
    assert.match(r.stderr.toString(), why);
  }
});

test('a local reference to a value that does not exist fails ref check and secret create --ref, and the README example works', (t) => {
  const i = inst(t);
  for (const ref of ['ref+local://nosuch', 'ref+local://...']) {
    const check = i.run(['ref', 'check', ref]);
    assert.notEqual(check.status, 0, ref);
    assert.match(check.stderr.toString(), /^keyway: (not_found: local: no stored value "nosuch"|invalid_argument: local: blob id "\.\.\." is invalid)/);
    assert.notEqual(i.run(['secret', 'create', 'api', '--ref', ref]).status, 0, ref);
  }
  assert.equal(i.run(['secret', 'ls', '-q']).stdout.toString(), '');
  // README quick start, as written
  assert.equal(i.run(['secret', 'create', 'db', '-'], { input: 's3cret' }).status, 0);
  assert.equal(i.run(['get', 'db']).stdout.toString(), 's3cret');
  assert.equal(i.run(['secret', 'create', 'api', '--ref', 'ref+secret://db']).status, 0);
  assert.equal(i.run(['get', 'api']).stdout.toString(), 's3cret');
  assert.match(i.run(['secret', 'ls']).stdout.toString(), /\bapi\s+secret\s/);
});
