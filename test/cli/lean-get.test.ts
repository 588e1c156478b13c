// A plain `keyway get` runs without the command tree (src/cli/lean-get.ts). `--log-level=LEVEL` is
// a form the lean path leaves to commander, so each case below runs once each way and the two must
// not differ by a byte or an exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { testInstance, type Instance } from '../helpers/cli.js';

const VALUE = Buffer.from([0x00, 0xff, 0x0a, 0x41, 0x0d]);

function bothWays(i: Instance, args: readonly string[], level = 'warn'): { status: number | null; stdout: Buffer; stderr: string }[] {
  return [i.run(['--log-level', level, ...args]), i.run([`--log-level=${level}`, ...args])].map((r) => ({ status: r.status, stdout: r.stdout, stderr: r.stderr.toString() }));
}

test('a lean get and a get through the command tree print the same exact bytes', (t) => {
  const i = testInstance(t);
  assert.equal(i.run(['secret', 'create', 'bin', '-'], { input: VALUE }).status, 0);
  const [lean, full] = bothWays(i, ['get', 'bin']);
  assert.deepEqual(lean, { status: 0, stdout: VALUE, stderr: '' });
  assert.deepEqual(full, lean);
});

test('a lean get writes --out FILE with mode 0600 as the command tree does', (t) => {
  const i = testInstance(t);
  assert.equal(i.run(['secret', 'create', 'bin', '-'], { input: VALUE }).status, 0);
  for (const [n, args] of [['a', ['get', 'bin', '--out', join(i.dir, 'a')]], ['b', ['--log-level=warn', 'get', 'bin', '--out', join(i.dir, 'b')]]] as const) {
    const r = i.run(args);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(r.stdout.length, 0);
    assert.deepEqual(readFileSync(join(i.dir, n)), VALUE);
    assert.equal(statSync(join(i.dir, n)).mode & 0o777, 0o600);
  }
});

test('a lean get fails with the same line and exit code as the command tree', (t) => {
  const i = testInstance(t);
  const [lean, full] = bothWays(i, ['get', 'missing']);
  assert.equal(lean?.status, 3);
  assert.equal(lean?.stderr, 'keyway: not_found: no secret named "missing"\n');
  assert.deepEqual(full, lean);
  // A bad global option value is refused the same way too (usage, exit 2).
  const [badLean, badFull] = bothWays(i, ['get', 'missing'], 'loud');
  assert.equal(badLean?.status, 2);
  assert.match(badLean?.stderr ?? '', /^keyway: invalid_argument: --log-level: expected one of /);
  assert.deepEqual(badFull, badLean);
});
