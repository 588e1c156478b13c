import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFileName, parseEnvSpec, parseSecretSpec, parseWatch } from '../../src/delivery/run-spec.js';

const invalid = (e: Error & { code?: string }): boolean => e.code === 'invalid_argument';

void test('parseSecretSpec reads NAME with trailing target, mode, uid and gid options', () => {
  assert.deepEqual(parseSecretSpec('db'), { target: 'db' });
  assert.deepEqual(parseSecretSpec('db,target=pw,mode=0440,uid=1000,gid=0'), { target: 'db', file: 'pw', mode: 0o440, uid: 1000, gid: 0 });
});

void test('parseSecretSpec keeps commas that belong to a reference', () => {
  assert.deepEqual(parseSecretSpec('ref+vault://kv/app#/a,b,target=x'), { target: 'ref+vault://kv/app#/a,b', file: 'x' });
});

void test('parseSecretSpec refuses traversal in target, bad modes and ids, and repeated keys', () => {
  for (const s of ['db,target=../x', 'db,target=a/b', 'db,target=..', 'db,mode=999', 'db,mode=rw', 'db,uid=-1', 'db,gid=x', 'db,uid=1,uid=2', ',target=x', 'ref+bad']) {
    assert.throws(() => parseSecretSpec(s), invalid, s);
  }
});

void test('parseEnvSpec wants VAR=TARGET with a valid variable name', () => {
  assert.deepEqual(parseEnvSpec('DB_PW=db'), { variable: 'DB_PW', target: 'db' });
  for (const s of ['1X=db', 'X', 'X=', 'A-B=db']) assert.throws(() => parseEnvSpec(s), invalid, s);
});

void test('parseWatch accepts restart and signal:SIG and refuses anything else', () => {
  assert.deepEqual(parseWatch(true), { kind: 'restart' });
  assert.deepEqual(parseWatch('restart'), { kind: 'restart' });
  assert.deepEqual(parseWatch('signal:HUP'), { kind: 'signal', signal: 'SIGHUP' });
  assert.deepEqual(parseWatch('signal:SIGUSR1'), { kind: 'signal', signal: 'SIGUSR1' });
  for (const s of ['signal:NOPE', 'signal:KILL', 'reload']) assert.throws(() => parseWatch(s), invalid, s);
});

void test('defaultFileName uses the name, else the fragment or last path element of a reference', () => {
  assert.equal(defaultFileName('db'), 'db');
  assert.equal(defaultFileName('ref+vault://kv/app#/db/password'), 'password');
  assert.equal(defaultFileName('ref+aws-sm://prod/api-key'), 'api-key');
  assert.throws(() => defaultFileName('ref+vault://kv/app#/..'), invalid);
});

void test('an unknown --secret option after a NAME is named as an option, not blamed on the name', () => {
  for (const [spec, want] of [
    ['db,colour=red', /^--secret db: unknown option "colour" \(options: target=, mode=, uid=, gid=\)$/],
    ['db,target=x,colour=red', /^--secret db: unknown option "colour"/],
    ['db,colour=red,mode=0400', /^--secret db: unknown option "colour"/],
    ['db,colour', /^--secret db: "colour" is not KEY=VALUE/],
  ] as const) {
    assert.throws(() => parseSecretSpec(spec), (e: Error & { code?: string }) => invalid(e) && want.test(e.message), spec);
  }
});

void test('a --watch value that is not a mode says the command goes after --', () => {
  assert.throws(() => parseWatch('true'), (e: Error & { code?: string }) => invalid(e) && /^--watch: expected restart or signal:SIG, got "true" \(a command goes after --: keyway run --watch -- true\)$/.test(e.message));
});
