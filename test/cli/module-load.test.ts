// Which modules a short-lived command loads. Start-up time is a ratio benchmarked in bench/cli.ts;
// this pins the cause: `keyway version`, `get` and `run` must not import gRPC, prom-client, YAML,
// pino (until something is logged) or the daemon's servers, so a later top-level import cannot
// silently bring them back onto every CLI start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, testInstance, type Instance } from '../helpers/cli.js';

const RECORDER = join(REPO, 'test', 'helpers', 'load-recorder.mjs');

/** Runs the CLI under the load recorder; returns the loaded module URLs relative to the repo. */
function loaded(i: Instance, args: readonly string[], input = ''): string[] {
  const log = join(i.dir, `loaded-${args[0] ?? 'none'}.txt`);
  const r = i.run(args, { input, env: { KEYWAY_LOAD_LOG: log, NODE_OPTIONS: `--import=${RECORDER}` } });
  assert.equal(r.status, 0, r.stderr.toString());
  const base = new URL(`file://${REPO}/`).href;
  return [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean).map((u) => u.replace(base, '')))];
}

/** Heavy or server-only code no short-lived command may load. */
const FORBIDDEN: readonly [string, RegExp][] = [
  ['gRPC', /node_modules\/@grpc\//],
  ['prom-client', /node_modules\/prom-client\//],
  ['yaml', /node_modules\/yaml\//],
  ['pino', /node_modules\/pino\//],
  ['the daemon', /^dist\/daemon\/(serve|docker|templates)\.js$/],
  ['a frontend server', /^dist\/frontends\//],
  ['metrics', /^dist\/broker\/metrics\.js$/],
];

function assertNone(mods: readonly string[], what: string): void {
  for (const [name, re] of FORBIDDEN) {
    const hits = mods.filter((m) => re.test(m));
    assert.deepEqual(hits, [], `${what} loaded ${name}`);
  }
}

test('keyway version loads its own module and not even the command parser', (t) => {
  const i = testInstance(t);
  const mods = loaded(i, ['version']);
  assertNone(mods, 'version');
  // Not even config, the store or the providers: nothing under these folders.
  const heavy = mods.filter((m) => /^dist\/(config|store|providers|plugins|broker|delivery|daemon|templates)\/|vendor\/(zod|smol-toml)\.js$|better-sqlite3/.test(m));
  assert.deepEqual(heavy, []);
  assert.ok(mods.includes('dist/cli/commands/version.js'));
  assert.deepEqual(mods.filter((m) => m.includes('commander')), []);
  // Other commands' modules stay unloaded.
  assert.deepEqual(mods.filter((m) => m.startsWith('dist/cli/commands/') && m !== 'dist/cli/commands/version.js'), []);
});

test('keyway get of a local secret loads no gRPC, metrics, YAML, logger or daemon servers', (t) => {
  const i = testInstance(t);
  assert.equal(i.run(['secret', 'create', 'app', '-'], { input: 'v' }).status, 0);
  const mods = loaded(i, ['get', 'app']);
  assertNone(mods, 'get');
  assert.deepEqual(mods.filter((m) => m.startsWith('dist/cli/commands/') && m !== 'dist/cli/commands/get.js'), []);
  // Sanity: the recorder sees what get does need.
  assert.ok(mods.includes('dist/daemon/context.js'));
});

test('keyway run loads no gRPC, metrics, YAML, logger or daemon servers', (t) => {
  const i = testInstance(t);
  assert.equal(i.run(['secret', 'create', 'app', '-'], { input: 'v' }).status, 0);
  assertNone(loaded(i, ['run', '--secret', 'app', '--', 'true']), 'run');
});

test('keyway --help still lists every command', (t) => {
  const i = testInstance(t);
  const r = i.run(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['secret', 'get', 'ref', 'audit', 'run', 'doctor', 'serve', 'podman', 'podman-plugin', 'plugin', 'template', 'volume', 'version']) assert.match(r.stdout.toString(), new RegExp(`^  ${c}\\b`, 'm'), c);
});
