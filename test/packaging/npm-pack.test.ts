import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeInstance, REPO } from '../helpers/cli.js';
import { driverOpts, runDriverCommand } from '../helpers/shell-driver.js';

const NPM_LOCAL = join(REPO, 'scripts', 'npm-local.mjs');

function npmLocal(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [NPM_LOCAL, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

test('the npm tarball installs into a fresh prefix and every command works from the installed copy', (t) => {
  const i = makeInstance();
  const work = mkdtempSync(join(tmpdir(), 'keyway-npm-'));
  t.after(() => {
    i.cleanup();
    rmSync(work, { recursive: true, force: true });
  });
  const packed = npmLocal(['pack', work]);
  assert.equal(packed.status, 0, packed.stderr);
  const tarball = packed.stdout.trim();
  assert.match(tarball, /keyway-\d+\.\d+\.\d+\.tgz$/);
  const prefix = join(work, 'prefix');
  // --offline: every dependency comes from npm's cache (filled by `npm ci`), never the network. A
  // checkout whose node_modules did not come through this cache falls back to --prefer-offline.
  let installed = npmLocal(['install', tarball, prefix, '--offline']);
  if (installed.status !== 0 && installed.stderr.includes('ENOTCACHED')) {
    console.error('npm cache lacks some dependencies; installing with --prefer-offline instead');
    installed = npmLocal(['install', tarball, prefix]);
  }
  assert.equal(installed.status, 0, installed.stderr);

  const pkg = join(prefix, 'lib', 'node_modules', 'keyway');
  const bin = join(prefix, 'bin', 'keyway');
  assert.ok(realpathSync(bin).startsWith(realpathSync(pkg)), 'the keyway on PATH is the installed copy');
  for (const f of ['bin/keyway-podman-lookup', 'proto/csi/v1alpha1/service.proto', 'deploy/docker-plugin/config.json', 'deploy/kubernetes/daemonset.yaml']) {
    assert.ok(existsSync(join(pkg, f)), `${f} is in the package`);
  }
  // Only what keyway needs at run time, and nothing native (no addon, no compiler run).
  assert.ok(!existsSync(join(pkg, 'src')) && !existsSync(join(pkg, 'test')));
  assert.ok(!existsSync(join(pkg, 'node_modules', 'better-sqlite3')));

  // PATH holds only the prefix, the Node running this test (22.13+; the system's may be older) and
  // the system: nothing resolves back to this checkout.
  const env = { ...i.env, PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:/usr/bin:/bin` };
  const keyway = (args: readonly string[], input = ''): SpawnSyncReturns<Buffer> => spawnSync('keyway', args, { env, input, cwd: work });

  const v = keyway(['version']);
  assert.equal(v.status, 0, v.stderr.toString());
  assert.match(v.stdout.toString(), /^keyway \d+\.\d+\.\d+/);

  const secret = Buffer.from('pkg-CANARY\0\n\xff bytes', 'latin1');
  const created = keyway(['secret', 'create', 'db-pass', '-'], secret.toString('latin1'));
  assert.equal(created.status, 0, created.stderr.toString());
  const got = keyway(['get', 'db-pass']);
  assert.equal(got.status, 0, got.stderr.toString());
  assert.deepEqual(got.stdout, Buffer.from(secret.toString('latin1')));

  // driver-opts names the installed files, and the lookup it wires up answers with the value.
  const opts = keyway(['podman', 'driver-opts']);
  assert.equal(opts.status, 0, opts.stderr.toString());
  const text = opts.stdout.toString();
  // (The Node it names may live in this checkout's .node/ when the system's is too old.)
  assert.ok(text.includes(join(pkg, 'dist', 'cli.js')) && !text.split(process.execPath).join('').includes(REPO), text);
  const driver = driverOpts(text);
  assert.deepEqual(Object.keys(driver), ['list', 'lookup', 'store', 'delete'], text);
  if (text.includes('keyway-podman-lookup')) assert.ok(text.includes(join(pkg, 'bin', 'keyway-podman-lookup')));
  // Store the way Podman does (payload on stdin, its id in SECRET_ID), then look it up.
  const run = (name: string, id: string, input = ''): SpawnSyncReturns<Buffer> => runDriverCommand(driver[name] ?? 'false', { id, input, env });
  const id = 'a1b2c3d4e5f60718293a4b5c6';
  const stored = run('store', id, 'podman-CANARY');
  assert.equal(stored.status, 0, stored.stderr.toString());
  assert.equal(run('list', '').stdout.toString().trim(), id);
  const looked = run('lookup', id);
  assert.equal(looked.status, 0, looked.stderr.toString());
  assert.equal(looked.stdout.toString(), 'podman-CANARY');
});
