// The CLI refuses an unsupported Node.js before loading anything else, and keeps its compile cache
// only where no other user can write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCacheDir, supportedNode } from '../src/runtime.js';
import { CLI, ensureBuilt } from './helpers/cli.js';

test('Node 22.13 and later are supported, older lines are not', () => {
  for (const v of ['22.13.0', 'v22.13.1', '22.22.0', '23.0.0', '24.21.0', '26.1.0']) assert.equal(supportedNode(v), true, v);
  for (const v of ['20.20.2', 'v20.19.0', '22.12.0', '22.0.0', '18.19.1']) assert.equal(supportedNode(v), false, v);
});

/** Runs the built CLI on this Node, made to report `version` as its own. */
function cliOn(version: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  ensureBuilt();
  const pretend = `data:text/javascript,Object.defineProperty(process.versions, "node", { value: "${version}" })`;
  const r = spawnSync(process.execPath, ['--import', pretend, CLI, ...args], { encoding: 'utf8', env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the CLI on Node 20 exits 1 with one line naming the versions it needs', () => {
  const r = cliOn('20.20.2', ['version']);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "keyway: Node.js 20.20.2 is not supported; keyway needs Node.js 22 (22.13 or later) or 24. See the README's quick start for installing one.\n");
});

test('the CLI on a supported Node runs the command', () => {
  const r = cliOn('22.13.0', ['version']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\d+\.\d+\.\d+/);
});

test('the compile cache lives under a cache dir we own, never under one others can write', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o700);
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: dir }), join(dir, 'keyway', 'compile-cache'));
  assert.equal(compileCacheDir({ HOME: dir }), join(dir, '.cache', 'keyway', 'compile-cache'), 'a missing ~/.cache is created below a trusted home');
  chmodSync(dir, 0o777);
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: dir }), undefined, 'world-writable');
  assert.equal(compileCacheDir({ HOME: dir }), undefined, 'world-writable home');
  chmodSync(dir, 0o700);
  mkdirSync(join(dir, 'shared'), { mode: 0o770 });
  chmodSync(join(dir, 'shared'), 0o770);
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: join(dir, 'shared') }), undefined, 'group-writable');
  assert.equal(compileCacheDir({ XDG_CACHE_HOME: '/tmp' }), undefined, 'a sticky shared dir');
});
