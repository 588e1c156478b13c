// A hostile plugin, given binds that reach keyway's files by every spelling, reports what it could
// read or reach. keyway's layout here is world-readable and its sockets world-connectable, so only
// the masking can hide them; a separate root-only 0600 file shows the uid switch on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { configSchema } from '../../src/config/schema.js';
import { hiddenFromPlugins } from '../../src/daemon/plugins.js';
import type { Lifecycle, PluginEntry } from '../../src/plugins/entry.js';
import { PluginHost } from '../../src/plugins/host/host.js';
import { prepareRegistration } from '../../src/plugins/register.js';
import { canSandbox, captureLogger, deps, entryFor, script, tempDir } from './helpers.js';
import { podmanSkipReason } from '../helpers/podman.js';
import { rootSkipReason } from '../helpers/tools.js';
import { buildImage } from './oci-helpers.js';

const never = new AbortController().signal;

// Probes every target (env PROBE_TARGETS) and answers each lookup with a JSON report. Speaks
// protocol v1 for both lifecycles: one request per line, no request payloads.
const PROBE = `#!/usr/bin/node
'use strict';
const fs = require('fs');
const net = require('net');
const targets = JSON.parse(process.env.PROBE_TARGETS);
function probe(t) {
  if (t.kind === 'socket') {
    return new Promise((res) => {
      const s = net.connect(t.path);
      s.on('connect', () => { s.destroy(); res('CONNECTED'); });
      s.on('error', (e) => res(e.code || 'error'));
    });
  }
  try {
    if (t.kind === 'dir') { const n = fs.readdirSync(t.path); return Promise.resolve(n.length > 0 ? 'LISTED ' + n.join(',') : 'empty'); }
    return Promise.resolve(fs.readFileSync(t.path).length > 0 ? 'READ' : 'empty');
  } catch (e) { return Promise.resolve(e.code || 'error'); }
}
async function answer(h) {
  if (h.op === 'describe') return process.stdout.write(JSON.stringify({ v: 1, id: h.id, ok: true, protocol: 1, ops: ['describe', 'lookup'], option_keys: [] }) + '\\n');
  const out = { uid: process.getuid(), gid: process.getgid(), results: {} };
  for (const t of targets) out.results[t.path] = await probe(t);
  const p = Buffer.from(JSON.stringify(out));
  process.stdout.write(Buffer.concat([Buffer.from(JSON.stringify({ v: 1, id: h.id, ok: true, size: p.length }) + '\\n'), p]));
}
let buf = '';
process.stdin.on('data', (c) => {
  buf += c;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) { const line = buf.slice(0, i); buf = buf.slice(i + 1); void answer(JSON.parse(line)); }
});
`;

interface Target {
  readonly path: string;
  readonly kind: 'file' | 'dir' | 'socket';
}

interface Layout {
  readonly base: string;
  /** The state dir's parent: every bind spelling below points at it. */
  readonly parent: string;
  readonly hide: string[];
  /** keyway's objects, relative to `parent`. */
  readonly keyway: readonly Target[];
  /** World-readable file next to them: proves the bind works. */
  readonly publicFile: string;
  /** 0600 root file in the same bound tree, not in keyway's set: only the uid keeps it out. */
  readonly rootOnly: string;
  readonly plugin: string;
}

async function listenUnix(t: { after(fn: () => Promise<void>): void }, path: string): Promise<void> {
  const server: Server = createServer((s) => {
    s.on('error', () => undefined); // the probe hangs up at once
    s.end('keyway-socket-answer');
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  chmodSync(path, 0o666);
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
}

async function layout(t: { after(fn: () => Promise<void> | void): void }): Promise<Layout> {
  const base = tempDir(t, 'keyway-hostile-');
  const parent = join(base, 'var', 'lib');
  const state = join(parent, 'keyway');
  const runtime = join(parent, 'run-keyway');
  mkdirSync(join(runtime, 'mounts', 'set1'), { recursive: true, mode: 0o755 });
  mkdirSync(state, { recursive: true, mode: 0o755 });
  mkdirSync(join(parent, 'docker'));
  mkdirSync(join(parent, 'csi'));
  for (const f of ['keyway.db', 'keyway.db-wal', 'keyway.db-shm', 'local.key']) writeFileSync(join(state, f), `${f}-content`, { mode: 0o644 });
  writeFileSync(join(parent, 'config.toml'), 'state_dir = "x"\n', { mode: 0o644 });
  writeFileSync(join(parent, 'local-key-elsewhere'), 'key', { mode: 0o644 });
  writeFileSync(join(runtime, 'mounts', 'set1', 'secret'), 'delivered-secret', { mode: 0o644 });
  writeFileSync(join(parent, 'public.txt'), 'public', { mode: 0o644 });
  writeFileSync(join(parent, 'root-only'), 'root-only', { mode: 0o600 });
  const sockets = { admin: join(runtime, 'keyway.sock'), lookup: join(runtime, 'podman-lookup.sock'), docker: join(parent, 'docker', 'keyway.sock'), csi: join(parent, 'csi', 'keyway.sock') };
  for (const s of Object.values(sockets)) await listenUnix(t, s);
  // The set comes from the same function the daemon uses, so a path it forgets shows up here.
  const config = configSchema.parse({ local: { key_file: join(parent, 'local-key-elsewhere') }, docker: { socket: sockets.docker }, csi: { socket: sockets.csi } });
  const hide = hiddenFromPlugins({ config, stateDir: state, runtimeDir: runtime, configPath: join(parent, 'config.toml') });
  const keyway: Target[] = [
    { path: 'keyway', kind: 'dir' },
    ...['keyway.db', 'keyway.db-wal', 'keyway.db-shm', 'local.key'].map((f) => ({ path: `keyway/${f}`, kind: 'file' as const })),
    { path: 'local-key-elsewhere', kind: 'file' },
    { path: 'config.toml', kind: 'file' },
    { path: 'run-keyway', kind: 'dir' },
    { path: 'run-keyway/mounts/set1/secret', kind: 'file' },
    { path: 'run-keyway/keyway.sock', kind: 'socket' },
    { path: 'run-keyway/podman-lookup.sock', kind: 'socket' },
    { path: 'docker/keyway.sock', kind: 'socket' },
    { path: 'csi/keyway.sock', kind: 'socket' },
  ];
  mkdirSync(join(base, 'plugins'));
  const plugin = script(join(base, 'plugins'), 'probe.cjs', PROBE);
  symlinkSync(parent, join(base, 'link-to-parent'));
  return { base, parent, hide, keyway, publicFile: 'public.txt', rootOnly: 'root-only', plugin };
}

/** Each spelling of a bind that covers the state dir's parent. */
function spellings(l: Layout): Record<string, string> {
  return {
    parent: l.parent,
    'parent/./': `${l.parent}/./`,
    '//parent': `/${l.parent}`,
    'symlink to parent': join(l.base, 'link-to-parent'),
    '.. segments': `${l.parent}/keyway/../../lib`,
    grandparent: join(l.base, 'var'),
  };
}

/** Every place the plugin might find an object: under the resolved path and under the spelling. */
function targets(l: Layout, spelling: string): Target[] {
  const roots = [...new Set([l.parent, realpathSync(spelling), spelling.replace(/\/+$/, '')])];
  const rel = [...l.keyway, { path: l.publicFile, kind: 'file' as const }, { path: l.rootOnly, kind: 'file' as const }];
  return roots.flatMap((r) => rel.map((t) => ({ path: `${r}/${t.path}`, kind: t.kind })));
}

interface Report {
  readonly uid: number;
  readonly gid: number;
  readonly results: Record<string, string>;
}

function leaks(l: Layout, report: Report): string[] {
  const bad: string[] = [];
  for (const [path, outcome] of Object.entries(report.results)) {
    if (path.endsWith(`/${l.publicFile}`)) continue;
    if (outcome === 'READ' || outcome === 'CONNECTED' || outcome.startsWith('LISTED')) bad.push(`${path}: ${outcome}`);
  }
  return bad;
}

async function runProbe(entry: PluginEntry, hide: string[]): Promise<Report> {
  const { logger } = captureLogger();
  const host = new PluginHost(entry, deps(logger, { hide }));
  try {
    return JSON.parse((await host.lookup('x', {}, never)).value.expose().toString()) as Report;
  } finally {
    await host.close();
  }
}

const lifecycles: Lifecycle[] = ['oneshot', 'serve'];
const bwrapSkip = canSandbox() ?? rootSkipReason('needs root to switch plugins to nobody');

for (const lifecycle of lifecycles) {
  test(`bubblewrap, ${lifecycle}: no bind spelling shows keyway's state, runtime dir, sockets or mount sets, and the plugin is not root`, { skip: bwrapSkip }, async (t) => {
    const l = await layout(t);
    // Another path to the same directory, which no string comparison can see: a host bind mount.
    const alias = join(l.base, 'alias-of-parent');
    mkdirSync(alias);
    assert.equal(spawnSync('mount', ['--bind', l.parent, alias]).status, 0);
    try {
      for (const [label, spelling] of Object.entries({ ...spellings(l), 'bind-mount alias': alias })) {
      const env = { PROBE_TARGETS: JSON.stringify(targets(l, spelling)) };
      const report = await runProbe(entryFor('probe', l.plugin, { lifecycle, env, roBinds: [spelling] }), l.hide);
      // Where the parent's own files appear inside the sandbox (the alias is a mount point, not a link).
      const at = spelling === alias ? alias : l.parent;
      assert.deepEqual(leaks(l, report), [], `bind ${label} (${spelling})`);
      assert.equal(report.results[`${at}/${l.publicFile}`], 'READ', `bind ${label}: the bound directory itself is visible`);
      assert.equal(report.results[`${at}/${l.rootOnly}`], 'EACCES', `bind ${label}: a root-only 0600 file is unreadable`);
      assert.notEqual(report.uid, 0);
      assert.equal(report.uid, 65534, 'default user is nobody');
      }
    } finally {
      spawnSync('umount', [alias]);
    }
    // Control: with nothing hidden, the same probe sees keyway's files (the test can see a hole).
    const open = await runProbe(entryFor('probe', l.plugin, { lifecycle, env: { PROBE_TARGETS: JSON.stringify(targets(l, l.parent)) }, roBinds: [l.parent] }), []);
    assert.equal(open.results[`${l.parent}/keyway/local.key`], 'READ');
    assert.equal(open.results[`${l.parent}/run-keyway/keyway.sock`], 'CONNECTED');
  });
}

test('a bind of "/", of /proc, or onto keyway\'s own state or runtime dir is refused at register and at spawn, naming the bind', { skip: bwrapSkip }, async (t) => {
  const l = await layout(t);
  symlinkSync(join(l.parent, 'keyway'), join(l.base, 'link-to-state'));
  const refused = ['/', '//', '/./', `${l.parent}/../../../../../../..`, '/proc', join(l.parent, 'keyway'), join(l.base, 'link-to-state'), `${l.parent}/keyway/.`, join(l.parent, 'run-keyway', 'mounts')];
  const { logger } = captureLogger();
  const d = deps(logger, { hide: l.hide });
  for (const bind of refused) {
    const ok = (e: unknown): boolean => e instanceof KeywayError && ['invalid_argument', 'permission_denied'].includes(e.code) && e.message.includes(JSON.stringify(bind));
    await assert.rejects(new PluginHost(entryFor('probe', l.plugin, { roBinds: [bind], env: { PROBE_TARGETS: '[]' } }), d).lookup('x', {}, never), ok, `spawn with ${bind}`);
    await assert.rejects(prepareRegistration({ name: 'probe', path: l.plugin, roBinds: [bind], dialect: 'podman' }, d, never), ok, `register with ${bind}`);
  }
});

test('a plugin can be given its own unprivileged user, and never root', { skip: bwrapSkip }, async (t) => {
  const l = await layout(t);
  const env = { PROBE_TARGETS: '[]' };
  const report = await runProbe(entryFor('probe', l.plugin, { env, user: '4242:4343' }), l.hide);
  assert.equal(report.uid, 4242);
  assert.equal(report.gid, 4343);
  for (const user of ['root', '0', '0:0', 'no such user']) {
    await assert.rejects(runProbe(entryFor('probe', l.plugin, { env, user }), l.hide), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument');
  }
  // Without the sandbox too.
  const bare = await runProbe(entryFor('probe', l.plugin, { env, sandbox: false }), l.hide);
  assert.equal(bare.uid, 65534);
});

// The same hostile probe as an OCI image: it looks for keyway's paths and reads a root-only file.
const OCI_PROBE = `#!/bin/sh
report() {
  r="uid=$(id -u)"
  for p in $PROBE_PATHS; do if cat "$p" >/dev/null 2>&1 || ls "$p" >/dev/null 2>&1; then r="$r $p:SEEN"; fi; done
  if cat /root-only >/dev/null 2>&1; then r="$r root-only:READ"; else r="$r root-only:denied"; fi
  printf '{"v":1,"id":"%s","ok":true,"size":%d}\\n%s' "$1" \${#r} "$r"
}
while IFS= read -r h; do
  id=$(printf '%s' "$h" | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')
  case "$h" in *'"op":"describe"'*) printf '{"v":1,"id":"%s","ok":true,"protocol":1,"ops":["describe","lookup"],"option_keys":[]}\\n' "$id";; *) report "$id";; esac
done
`;

test('OCI (Podman), oneshot and serve: the plugin runs as nobody, sees none of keyway\'s paths, cannot read a root-only file, and binds are refused', { skip: podmanSkipReason() }, async (t) => {
  const l = await layout(t);
  const dir = tempDir(t, 'keyway-hostile-oci-');
  const img = buildImage(t, dir, 'keyway-hostile-probe', { '/bin/plugin': { body: OCI_PROBE, mode: 0o755 }, '/root-only': { body: 'root-only', mode: 0o600 } });
  const paths = l.keyway.map((k) => `${l.parent}/${k.path}`).join(' ');
  const { logger } = captureLogger();
  const d = deps(logger, { hide: l.hide, ociEngineEnv: img.engineEnv });
  for (const lifecycle of lifecycles) {
    const entry: PluginEntry = { name: 'ociprobe', ociImage: img.ref, runtime: 'runc', lifecycle, dialect: 'keyway', allowNetwork: false, env: { PROBE_PATHS: paths }, timeoutMs: 60_000, sandbox: true, roBinds: [], optionKeys: [] };
    const host = new PluginHost(entry, d);
    try {
      const out = (await host.lookup('x', {}, never)).value.expose().toString();
      assert.match(out, /^uid=65534 /, lifecycle);
      assert.doesNotMatch(out, /SEEN/, lifecycle);
      assert.match(out, /root-only:denied$/, lifecycle);
    } finally {
      await host.close();
    }
    const spelling = spellings(l).parent ?? '';
    await assert.rejects(new PluginHost({ ...entry, roBinds: [spelling] }, d).lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && /ro_binds/.test(e.message));
  }
  await assert.rejects(prepareRegistration({ name: 'ociprobe', ociImage: img.ref, roBinds: [l.parent] }, d, never), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && /ro-bind/.test(e.message));
});
