import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { PluginHost } from '../../src/plugins/host/host.js';
import type { LaunchInfo } from '../../src/plugins/host/launcher.js';
import { FILES_PLUGIN, captureLogger, deps, entryFor, memoryEntry, tempDir, lastingZombies } from './helpers.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const never = new AbortController().signal;

test('the shell example answers describe, lookup, list and version inside the sandbox', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'db', 'password'), 'hunter2-xyz\n');
  const launches: LaunchInfo[] = [];
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('files', FILES_PLUGIN, { env: { FILES_DIR: dir }, roBinds: [dir] }), deps(logger, {}, launches));
  const d = await host.describe(never);
  assert.deepEqual(d.ops, ['describe', 'lookup', 'list', 'version']);
  const r = await host.lookup('db/password', {}, never);
  assert.equal(r.value.expose().toString(), 'hunter2-xyz\n');
  assert.deepEqual(await host.list(undefined, never), ['db/password']);
  assert.match(await host.version('db/password', {}, never), /^\d+\.\d+$/);
  await assert.rejects(host.lookup('db/nope', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'not_found');
  await assert.rejects(host.store('x', SecretValue.fromString('v'), {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'unsupported');
  assert.equal(launches.length, 6);
  assert.ok(launches.every((l) => l.sandbox === 'bwrap' && /^[0-9a-f]{64}$/.test(l.sha256 ?? '')));
  assert.deepEqual(await lastingZombies(), []);
});

test('the TS serve example handles 1,000 concurrent lookups over one process', async (t) => {
  const { logger } = captureLogger();
  const host = new PluginHost(memoryEntry(), deps(logger));
  t.after(() => host.close());
  const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => host.lookup(`demo/${i}`, {}, never)));
  results.forEach((r, i) => assert.equal(r.value.expose().toString(), `demo-value-${i}`));
  assert.equal(host.serveClient?.launches, 1);
  await host.store('app/key', SecretValue.fromString('s3cret-value'), {}, never);
  assert.equal((await host.lookup('app/key', {}, never)).value.expose().toString(), 's3cret-value');
  assert.deepEqual(await host.list('app/', never), ['app/key']);
  await host.delete('app/key', {}, never);
  await assert.rejects(host.lookup('app/key', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'not_found');
});
