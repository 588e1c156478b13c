// What an idle `keyway serve` keeps loaded. Node's own modules are not seen by a loader hook, so a
// preload writes process.moduleLoadList at exit, and require's cache (where the bundle's zod.cjs
// lands when something builds a zod schema).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, makeInstance } from '../helpers/cli.js';
import { unmountRoot } from '../../src/delivery/mount-root.js';

test('an idle serve with its HTTP frontends loads neither undici nor http2, tls, zlib, worker_threads or zod', async (t) => {
  const i = makeInstance('kw-idle-');
  t.after(async () => {
    await unmountRoot(i.runtimeDir).catch(() => undefined);
    i.cleanup();
  });
  i.writeConfig(`[docker]\nenabled = true\nsocket = "${join(i.dir, 'docker.sock')}"\n[csi]\nenabled = true\nsocket = "${join(i.dir, 'csi.sock')}"\n` +
      // Provider tables are checked at start, against each type's option schema.
      `[providers.kv]\ntype = "vault"\naddress = "http://127.0.0.1:8200"\nauth = { method = "approle", role_id = "r" }\n[providers.team]\ntype = "local"\nkey_file = "${join(i.dir, 'team.key')}"\n`);
  const list = join(i.dir, 'modules.txt');
  const preload = join(i.dir, 'list-modules.cjs');
  writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, [...process.moduleLoadList, ...Object.keys(require.cache)].join('\\n')));\n`);
  const child = spawn(process.execPath, ['--require', preload, CLI, 'serve'], { env: i.env, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!logs.includes('keyway serving')) {
    assert.ok(child.exitCode === null && Date.now() < deadline, `serve did not start: ${logs}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.match(logs, /"frontends":\["api","csi",.*"docker"\]/);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  const loaded = readFileSync(list, 'utf8').split('\n');
  assert.ok(loaded.includes('NativeModule http'), 'the HTTP frontends are running');
  // worker_threads comes with an ESM import of node:util (its namespace evaluates every export).
  for (const m of ['internal/deps/undici/undici', 'http2', 'tls', 'zlib', 'worker_threads']) assert.ok(!loaded.includes(`NativeModule ${m}`), `${m} loaded`);
  // The config and every provider's options take the fast parse (core/deferred-schema.ts).
  assert.deepEqual(loaded.filter((m) => /[/\\]zod[/.]|zod\.cjs$/.test(m)), []);
});
