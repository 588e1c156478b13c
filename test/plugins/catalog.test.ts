import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import { openDb } from '../../src/store/db.js';
import { PluginsRepo, type NewPlugin } from '../../src/store/plugins.js';
import { PluginCatalog, entryFromConfig } from '../../src/plugins/catalog.js';
import { readContainersConfPlugins } from '../../src/plugins/containers-conf.js';
import { redact } from '../../src/plugins/host/stderr.js';
import { tempDir } from './helpers.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SHA = 'a'.repeat(64);
const cfg = { lifecycle: 'oneshot' as const, dialect: 'keyway' as const, allow_network: false, sandbox: true, env: {}, timeout_ms: 1000 };

function rec(name: string, over: Partial<NewPlugin> = {}): NewPlugin {
  return { name, path: '/usr/libexec/p', sha256: SHA, ociImage: null, runtime: null, lifecycle: 'serve', dialect: 'keyway', allowNetwork: false, env: { A: 'b' }, options: { ops: ['describe', 'lookup', 'store'], option_keys: ['region'], ro_binds: ['/srv'] }, ...over };
}

test('the repository stores, replaces and removes entries, and a refused duplicate leaves the first intact', (t) => {
  const db = openDb(join(tempDir(t), 'state'));
  t.after(() => db.close());
  const repo = new PluginsRepo(db);
  const first = repo.put(rec('p'));
  assert.equal(first.lifecycle, 'serve');
  assert.deepEqual(first.env, { A: 'b' });
  assert.throws(() => repo.put(rec('p', { path: '/other' })), (e: unknown) => e instanceof KeywayError && e.code === 'already_exists');
  assert.equal(repo.get('p')?.path, '/usr/libexec/p');
  const replaced = repo.put(rec('p', { path: '/other' }), true);
  assert.equal(replaced.path, '/other');
  assert.equal(replaced.createdAt, first.createdAt);
  assert.deepEqual(repo.list().map((r) => r.name), ['p']);
  assert.equal(repo.remove('p'), true);
  assert.equal(repo.remove('p'), false);
});

test('the catalog merges config and registered entries, config first', (t) => {
  const db = openDb(join(tempDir(t), 'state'));
  t.after(() => db.close());
  const repo = new PluginsRepo(db);
  repo.put(rec('both'));
  repo.put(rec('reg'));
  const cat = new PluginCatalog({ both: { ...cfg, path: '/opt/x', sha256: SHA } }, repo);
  assert.deepEqual(cat.names(), ['both', 'reg']);
  assert.equal(cat.get('both')?.source, 'config');
  assert.equal(cat.get('both')?.entry.path, '/opt/x');
  const reg = cat.get('reg');
  assert.equal(reg?.source, 'registered');
  assert.deepEqual(reg?.ops, ['describe', 'lookup', 'store']);
  assert.deepEqual(reg?.entry.optionKeys, ['region']);
  assert.deepEqual(reg?.entry.roBinds, ['/srv']);
  assert.equal(cat.get('none'), undefined);
});

test('config entries must be pinned and well-formed', () => {
  assert.throws(() => entryFromConfig('p', { ...cfg, path: '/x' }), /sha256 .* is required/);
  assert.throws(() => entryFromConfig('p', { ...cfg }), /path \(or oci_image\) is required/);
  assert.throws(() => entryFromConfig('p', { ...cfg, oci_image: 'img:latest' }), /IMAGE@sha256:DIGEST/);
  assert.throws(() => entryFromConfig('Bad Name', { ...cfg, path: '/x', sha256: SHA }), /plugin name/);
  const podman = entryFromConfig('p', { ...cfg, path: '/x', sha256: SHA, dialect: 'podman', lifecycle: 'serve' });
  assert.equal(podman.lifecycle, 'oneshot', 'the Podman dialect is always oneshot');
});

test('containers.conf import reads both plugin tables and rejects malformed ones', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'containers.conf');
  writeFileSync(f, '[secrets]\ndriver = "file"\n[secrets.driver_plugins]\nsysd = "/usr/libexec/podman-secret-systemd"\n[secrets.providers]\nvault = "/usr/libexec/podman-vault"\n');
  assert.deepEqual(readContainersConfPlugins(f), [
    { name: 'sysd', path: '/usr/libexec/podman-secret-systemd', table: 'driver_plugins' },
    { name: 'vault', path: '/usr/libexec/podman-vault', table: 'providers' },
  ]);
  writeFileSync(f, '[secrets.driver_plugins]\nx = "relative/path"\n');
  assert.throws(() => readContainersConfPlugins(f), /must be an absolute path/);
  writeFileSync(f, 'not toml [');
  assert.throws(() => readContainersConfPlugins(f), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument');
  writeFileSync(f, '[engine]\nruntime = "runc"\n');
  assert.deepEqual(readContainersConfPlugins(f), []);
});

test('redaction replaces every occurrence of each payload, across whatever surrounds it', () => {
  const out = redact(Buffer.from('a SECRET b SECRETSECRET c OTHER'), [Buffer.from('SECRET'), Buffer.from('OTHER')]);
  assert.equal(out.toString(), 'a [redacted] b [redacted][redacted] c [redacted]');
  assert.equal(redact(Buffer.from('abc'), [Buffer.from('ab')]).toString(), 'abc', 'needles under 4 bytes are skipped');
});
