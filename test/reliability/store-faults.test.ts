import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { openDbFile } from '../../src/store/db.js';
import { makeInstance, testInstance } from '../helpers/cli.js';
import { rootSkipReason } from '../helpers/tools.js';

test('a full state dir fails the write with a clear error and loses nothing', { skip: rootSkipReason('needs root to mount a small tmpfs') }, (t) => {
  const i = makeInstance();
  mkdirSync(i.stateDir, { recursive: true, mode: 0o700 });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'keyway-test-full', i.stateDir]);
  t.after(() => {
    execFileSync('umount', ['-l', i.stateDir]);
    i.cleanup();
  });
  for (let n = 0; n < 5; n++) assert.equal(i.run(['secret', 'create', `keep${n}`, '-'], { input: `value-${n}` }).status, 0);
  // Fill the filesystem to the last byte.
  const filler = join(i.stateDir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  try {
    for (;;) writeSync(fd, Buffer.alloc(1));
  } catch {
    // really full
  }
  closeSync(fd);
  const big = i.run(['secret', 'create', 'big', '-'], { input: Buffer.alloc(256 * 1024, 7) });
  assert.equal(big.status, 1);
  assert.match(big.stderr.toString(), /^keyway: too_large: .*full.*\n$/);
  rmSync(filler);
  // Nothing written before the disk filled up was lost.
  for (let n = 0; n < 5; n++) assert.equal(i.run(['get', `keep${n}`]).stdout.toString(), `value-${n}`);
  assert.equal(i.run(['secret', 'exists', 'big']).status, 3);
  assert.equal(i.run(['secret', 'create', 'big', '-'], { input: Buffer.alloc(256 * 1024, 7) }).status, 0);
  assert.equal(i.run(['get', 'big']).stdout.length, 256 * 1024);
});

test('a database locked by another process fails the write clearly within the busy timeout and loses nothing', (t) => {
  const i = testInstance(t);
  i.writeConfig('[store]\nbusy_timeout_ms = 300\n');
  assert.equal(i.run(['secret', 'create', 'before', '-'], { input: 'v1' }).status, 0);
  const holder = openDbFile(join(i.stateDir, 'keyway.db'), { readOnly: false });
  holder.exec('BEGIN EXCLUSIVE');
  const locked = i.run(['secret', 'create', 'during', '-'], { input: 'v2' });
  assert.equal(locked.status, 1);
  assert.match(locked.stderr.toString(), /^keyway: unavailable: .*locked by another process.*\n$/);
  holder.exec('ROLLBACK');
  holder.close();
  assert.equal(i.run(['get', 'before']).stdout.toString(), 'v1');
  assert.equal(i.run(['secret', 'exists', 'during']).status, 3);
  assert.equal(i.run(['secret', 'create', 'during', '-'], { input: 'v2' }).status, 0);
  assert.equal(i.run(['get', 'during']).stdout.toString(), 'v2');
});

test('a config file that is not readable is a one-line error naming it', (t) => {
  const i = testInstance(t);
  writeFileSync(i.configPath, '[limits]\nmax_secret_bytes = 10\n');
  rmSync(i.configPath);
  mkdirSync(i.configPath);
  const r = i.run(['secret', 'ls']);
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /^keyway: failed_precondition: config .*keyway\.toml: cannot read \(EISDIR\)\n$/);
});
