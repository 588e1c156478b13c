// Which modules a short-lived command loads. Start-up time is a ratio benchmarked in bench/cli.ts;
// this pins the cause: `keyway version`, `get` and `run` must not import gRPC, prom-client, YAML,
// or the daemon's servers, so a later top-level import cannot
// silently bring them back onto every CLI start. dist/ is a bundle (scripts/postbuild.mjs), so a
// loaded chunk stands for the src/ and node_modules files its source map lists: everything in a
// chunk is evaluated when the chunk is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, testInstance, type Instance } from '../helpers/cli.js';

const RECORDER = join(REPO, 'test', 'helpers', 'load-recorder.mjs');

/** A loaded file as the modules it holds, relative to the repo: a dist/ chunk's sources, else itself. */
function modulesOf(url: string): string[] {
  if (!url.startsWith('file:')) return [url];
  const file = fileURLToPath(url);
  const map = `${file}.map`;
  if (!file.startsWith(join(REPO, 'dist') + '/') || !existsSync(map)) return [relative(REPO, file)];
  const { sources } = JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] };
  return [relative(REPO, file), ...sources.map((s) => relative(REPO, resolve(dirname(file), s)))];
}

/** Runs the CLI (or `script`) under the load recorder; returns the loaded files and the modules they hold. */
function loaded(i: Instance, args: readonly string[], input = '', script?: string): string[] {
  const log = join(i.dir, `loaded-${args[0] ?? 'none'}.txt`);
  const env = { KEYWAY_LOAD_LOG: log, NODE_OPTIONS: `--import=${RECORDER}` };
  const r = script === undefined ? i.run(args, { input, env }) : spawnSync(process.execPath, [script, ...args], { env: { ...i.env, ...env, SECRET_ID: input } });
  assert.equal(r.status, 0, r.stderr.toString());
  return [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean).flatMap(modulesOf))];
}

/** Heavy or server-only code no short-lived command may load. */
const FORBIDDEN: readonly [string, RegExp][] = [
  ['gRPC', /node_modules\/@grpc\//],
  ['prom-client', /node_modules\/prom-client\//],
  ['yaml', /node_modules\/yaml\//],
  ['the daemon', /^src\/daemon\/(serve|docker|templates)\.ts$/],
  ['a frontend server', /^src\/frontends\//],
  ['metrics', /^src\/broker\/(metrics|prometheus)\.ts$/],
];

/**
 * Node built-ins a short-lived command must not pay for: child_process (with net, dgram and streams)
 * before it spawns, tty before it logs, and what an ES import of node:fs drags in through its
 * `promises` getter (fs/promises, readline).
 */
const IDLE_BUILTINS = ['builtin:child_process', 'builtin:tty', 'builtin:internal/fs/promises', 'builtin:internal/readline/interface'];

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
  const heavy = mods.filter((m) => /^src\/(config|store|providers|plugins|broker|delivery|daemon|templates)\/|node_modules\/(zod|smol-toml)\//.test(m));
  assert.deepEqual(heavy, []);
  assert.ok(mods.includes('src/cli/commands/version.ts'));
  assert.deepEqual(mods.filter((m) => [...IDLE_BUILTINS, 'builtin:crypto', 'builtin:sqlite'].includes(m)), []);
  assert.deepEqual(mods.filter((m) => m.includes('commander')), []);
  // Other commands' modules stay unloaded.
  assert.deepEqual(mods.filter((m) => m.startsWith('src/cli/commands/') && m !== 'src/cli/commands/version.ts'), []);
});

test('keyway get of a local secret loads two files after the entry, and no command parser, provider implementation, gRPC, metrics, YAML, daemon servers or zod', (t) => {
  const i = testInstance(t);
  assert.equal(i.run(['secret', 'create', 'app', '-'], { input: 'v' }).status, 0);
  const mods = loaded(i, ['get', 'app']);
  assertNone(mods, 'get');
  // The config and the default local provider's `{}` options take the fast parse (core/deferred-schema.ts).
  assert.deepEqual(mods.filter((m) => /node_modules\/zod\/|chunks\/zod\.cjs$/.test(m)), []);
  // A plain get skips the command tree (src/cli/lean-get.ts): no commander, no command module.
  assert.deepEqual(mods.filter((m) => m.includes('commander') || m.startsWith('src/cli/commands/') || m === 'src/cli/program.ts'), []);
  assert.deepEqual(mods.filter((m) => IDLE_BUILTINS.includes(m)), []);
  // After dist/cli.js, two files: the lean get's own and the chunk it shares with the code provider
  // instances import on first use (src/providers/implementations.ts), which a local get never runs.
  const chunks = mods.filter((m) => /^dist\/cli\/chunks\/[^/]+\.js$/.test(m));
  assert.ok(chunks.includes('dist/cli/chunks/lean-get.js'), chunks.join(' '));
  assert.ok(chunks.length <= 2, `a lean get loaded ${chunks.length} chunks: ${chunks.join(' ')}`);
  assert.deepEqual(mods.filter((m) => /^src\/(providers\/[a-z-]+\/provider|providers\/implementations|plugins\/host\/host)\.ts$/.test(m)), []);
  // Sanity: the recorder sees what get does need.
  assert.ok(mods.includes('src/daemon/context.ts'));
  assert.ok(mods.includes('src/store/sqlite.ts'));
  assert.ok(mods.includes('builtin:sqlite'));
});

test('keyway get with options the lean path leaves to the parser still prints the value', (t) => {
  const i = testInstance(t);
  assert.equal(i.run(['secret', 'create', 'app', '-'], { input: 'v' }).status, 0);
  const r = i.run(['--log-level=warn', 'get', 'app']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal(r.stdout.toString(), 'v');
  // `--log-level=warn` is not one of the forms the lean path takes, so commander ran.
  const mods = loaded(i, ['--log-level=warn', 'get', 'app']);
  assert.ok(mods.some((m) => m.includes('commander')));
  assert.ok(mods.includes('src/cli/commands/get.ts'));
});

test('the Podman lookup entry loads neither the command parser nor any command, gRPC, metrics, YAML or logger', (t) => {
  const i = testInstance(t);
  const id = '0123456789abcdef0123456789';
  assert.equal(i.run(['podman', 'store'], { input: 'v', env: { SECRET_ID: id } }).status, 0);
  const mods = loaded(i, ['--state-dir', i.stateDir], id, join(REPO, 'dist', 'cli', 'podman-lookup.js'));
  // The Podman frontend's own modules are what it runs (the lookup server's file only for its timeout).
  assertNone(mods.filter((m) => !/^src\/frontends\/(podman\/|unix-socket\.ts$)/.test(m)), 'podman lookup');
  assert.deepEqual(mods.filter((m) => m.startsWith('src/cli/commands/') || m.includes('commander')), []);
  // It starts as the CLI does: the Node check and the compile cache first.
  assert.ok(mods.includes('src/runtime.ts'));
  assert.ok(mods.includes('src/frontends/podman/wire.ts'));
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
