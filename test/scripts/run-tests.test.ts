import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distIsStale, REPO } from '../helpers/cli.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'skips');

function runTests(target: string, ci: boolean) {
  // NODE_TEST_CONTEXT would make the inner runner think it is nested in this one and run nothing.
  const { NODE_TEST_CONTEXT: _nested, ...outer } = process.env;
  const env = { ...outer, CI: ci ? 'true' : '' };
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'run-tests.mjs'), target], { cwd: REPO, env, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

void test('the closing summary counts skipped tests and names each one with its reason', () => {
  const r = runTests(join(FIXTURES, 'gated.test.ts'), false);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /^1 passed, 0 failed, 2 skipped$/m);
  assert.match(r.out, /^skipped tests \(2\):$/m);
  assert.match(r.out, /gated\.test\.ts: a tool-gated test — frobnicate is not installed \(apt-get install frobnicate\)$/m);
  assert.match(r.out, /gated\.test\.ts: a test that skips itself — needs root$/m);
});

void test('with CI=true a skipped test fails the run, and a run without skips passes', () => {
  const skipped = runTests(join(FIXTURES, 'gated.test.ts'), true);
  assert.equal(skipped.status, 1, skipped.out);
  assert.match(skipped.out, /CI=true: 2 test\(s\) skipped/);
  const clean = runTests(join(FIXTURES, 'clean.test.ts'), true);
  assert.equal(clean.status, 0, clean.out);
  assert.match(clean.out, /^1 passed, 0 failed, 0 skipped$/m);
});

void test('dist counts as stale when missing or when any src file or build input is newer than dist/cli.js', (t) => {
  const repo = mkdtempSync(join(tmpdir(), 'keyway-stale-'));
  t.after(() => rmSync(repo, { recursive: true, force: true }));
  mkdirSync(join(repo, 'src', 'deep'), { recursive: true });
  writeFileSync(join(repo, 'src', 'deep', 'a.ts'), '');
  assert.equal(distIsStale(repo), true, 'no dist/cli.js yet');
  mkdirSync(join(repo, 'dist'));
  writeFileSync(join(repo, 'dist', 'cli.js'), '');
  utimesSync(join(repo, 'src', 'deep', 'a.ts'), 1000, 1000);
  utimesSync(join(repo, 'dist', 'cli.js'), 2000, 2000);
  assert.equal(distIsStale(repo), false);
  utimesSync(join(repo, 'src', 'deep', 'a.ts'), 3000, 3000);
  assert.equal(distIsStale(repo), true, 'a nested src file is newer');
  utimesSync(join(repo, 'src', 'deep', 'a.ts'), 1000, 1000);
  mkdirSync(join(repo, 'scripts'));
  for (const input of [join('scripts', 'postbuild.mjs'), 'package.json']) {
    writeFileSync(join(repo, input), '');
    utimesSync(join(repo, input), 1000, 1000);
    assert.equal(distIsStale(repo), false, `${input} is older`);
    utimesSync(join(repo, input), 3000, 3000);
    assert.equal(distIsStale(repo), true, `${input} is newer`);
    utimesSync(join(repo, input), 1000, 1000);
  }
});
