import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, type Instance, mountSetRecords, testInstance } from '../helpers/cli.js';
import { rootSkipReason } from '../helpers/tools.js';

const ROOT_SKIP = rootSkipReason('keyway run mounts a tmpfs and needs root');
const CHILD = join(import.meta.dirname, '..', 'delivery', 'fixtures', 'child.mjs');
const PASSWORD = `p@ss "w'o\\rd" $(id)\n`;

function inst(t: TestContext): Instance {
  const i = testInstance(t, 'keyway-template-');
  assert.equal(i.run(['secret', 'create', 'db_password', '-'], { input: PASSWORD }).status, 0);
  assert.equal(i.run(['secret', 'create', 'db_user', '-'], { input: 'app' }).status, 0);
  return i;
}

const APP_CONF = 'DATABASE_URL=postgres://{{ db_user }}:{{ db_password | trim | url }}@db:5432/app\nPASSWORD={{ db_password | trim | shell }}\njson: {{db_password|json}}\n\\{{ literal }}\n';
const RENDERED = `DATABASE_URL=postgres://app:p%40ss%20%22w%27o%5Crd%22%20%24%28id%29@db:5432/app\nPASSWORD='p@ss "w'\\''o\\rd" $(id)'\njson: ${JSON.stringify(PASSWORD)}\n{{ literal }}\n`;


test('template render prints the exact rendered bytes and template check lists the targets without fetching', (t) => {
  const i = inst(t);
  const file = join(i.dir, 'app.env.tmpl');
  writeFileSync(file, APP_CONF);
  const r = i.run(['template', 'render', file]);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), RENDERED);
  assert.equal(r.stderr.length, 0);
  writeFileSync(file, '{{ db_user }} {{ ref+vault://kv/app#/password | json }} {{ db_user }} {{ missing }}');
  const c = i.run(['template', 'check', file]);
  assert.equal(c.status, 0, c.stderr.toString());
  assert.equal(c.stdout.toString(), 'db_user\nref+vault://kv/app#/password\nmissing\n');
});

test('template render exits 3 naming FILE:LINE:COL for an unknown secret and 2 for a syntax error, printing nothing', (t) => {
  const i = inst(t);
  const file = join(i.dir, 'bad.tmpl');
  writeFileSync(file, 'a={{ db_user }}\nb={{ nope }}\n');
  let r = i.run(['template', 'render', file]);
  assert.equal(r.status, 3);
  assert.equal(r.stdout.length, 0);
  assert.match(r.stderr.toString(), new RegExp(`^keyway: not_found: ${file.replace(/[.]/g, '\\.')}:2:3: `));
  writeFileSync(file, 'a={{ db_user | yaml }}\n');
  r = i.run(['template', 'render', file]);
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /invalid_argument: .*bad\.tmpl:1:16: unknown filter "yaml"/);
  r = i.run(['template', 'check', file]);
  assert.equal(r.status, 2);
  assert.ok(!r.stderr.toString().includes('p@ss'), 'no secret in errors');
});

test('keyway run --template renders into CREDENTIALS_DIRECTORY as NAME without .tmpl, mode 0400, or as target= with mode=', { skip: ROOT_SKIP }, (t) => {
  const i = inst(t);
  const src = join(i.dir, 'app.env.tmpl');
  writeFileSync(src, APP_CONF);
  const out = join(i.dir, 'inspect.json');
  let r = i.run(['run', '--template', src, '--', process.execPath, CHILD, 'inspect', 'app.env', out]);
  assert.equal(r.status, 0, r.stderr.toString());
  let seen = JSON.parse(readFileSync(out, 'utf8')) as { content: string; mode: number; dir: string };
  assert.equal(seen.content, RENDERED);
  assert.equal(seen.mode, 0o400);
  assert.equal(existsSync(seen.dir), false);
  r = i.run(['run', '--secret', 'db_user', '--template', `${src},target=.env,mode=0440`, '--', process.execPath, CHILD, 'inspect', '.env', out]);
  assert.equal(r.status, 0, r.stderr.toString());
  seen = JSON.parse(readFileSync(out, 'utf8')) as { content: string; mode: number; dir: string };
  assert.equal(seen.content, RENDERED);
  assert.equal(seen.mode, 0o440);
});

test('a failing template leaves no file and does not start the command', { skip: ROOT_SKIP }, (t) => {
  const i = inst(t);
  const marker = join(i.dir, 'started');
  const cases: [string, number, RegExp][] = [
    ['ok={{ db_user }}\n  {{ missing | json }}\n', 3, /not_found: .*bad\.tmpl:2:3: /],
    ['{{ db_user | nope }}', 2, /invalid_argument: .*bad\.tmpl:1:14: unknown filter/],
    ['{{ db_password | trim }}\n{{ db_password | ', 2, /invalid_argument: .*bad\.tmpl:2:18: expected a filter name/],
  ];
  const src = join(i.dir, 'bad.tmpl');
  for (const [text, status, message] of cases) {
    writeFileSync(src, text);
    const r = i.run(['run', '--secret', 'db_user', '--template', src, '--', process.execPath, CHILD, 'inspect', 'bad', marker]);
    assert.equal(r.status, status, r.stderr.toString());
    assert.match(r.stderr.toString(), message);
    assert.equal(existsSync(marker), false, 'the command was not started');
    assert.equal(mountSetRecords(i), 0, 'no mount set was left');
    const mounts = join(i.runtimeDir, 'mounts');
    assert.deepEqual(existsSync(mounts) ? readdirSync(mounts) : [], []);
  }
});

test('keyway run --template --watch re-renders when a referenced secret changes', { skip: ROOT_SKIP }, async (t) => {
  const i = inst(t);
  const src = join(i.dir, 'pw.tmpl');
  writeFileSync(src, 'user={{ db_user }}\n');
  const log = join(i.dir, 'log');
  const kw = spawn(process.execPath, [CLI, 'run', '--watch=signal:HUP', '--refresh-interval', '1', '--template', src, '--', process.execPath, CHILD, 'log', 'pw', log], { env: i.env, stdio: 'ignore' });
  t.after(() => kw.kill('SIGKILL'));
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 15_000;
    while (!cond()) {
      assert.ok(Date.now() < end, `timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('user=app'), 'the first render');
  assert.equal(i.run(['secret', 'create', 'db_user', '--replace', '-'], { input: 'admin' }).status, 0);
  await until(() => readFileSync(log, 'utf8').includes('user=admin'), 'the re-render');
  kw.kill('SIGTERM');
  const [code] = (await once(kw, 'exit')) as [number | null];
  assert.equal(code, 0);
  assert.equal(mountSetRecords(i), 0);
});
