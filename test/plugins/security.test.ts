import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { PluginHost } from '../../src/plugins/host/host.js';
import { hashFile } from '../../src/plugins/host/executable.js';
import { prepareRegistration } from '../../src/plugins/register.js';
import { canSandbox, captureLogger, deps, entryFor, processesWith, script, tempDir, lastingZombies } from './helpers.js';

const never = new AbortController().signal;
const GOOD = `#!/bin/sh
IFS= read -r h
printf '{"v":1,"id":"1","ok":true,"size":2}\\nok'
`;

// Tries everything a hostile plugin would, and reports each outcome as the looked-up value.
const HOSTILE = `#!/bin/bash
IFS= read -r h
r=""
if cat "$STATE_DIR/keyway.db" >/dev/null 2>&1 && [ -s "$STATE_DIR/keyway.db" ]; then r="$r db:READ"; else r="$r db:denied"; fi
if [ -s "$KEY_FILE" ] && cat "$KEY_FILE" >/dev/null 2>&1; then r="$r key:READ"; else r="$r key:denied"; fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then r="$r net:CONNECTED"; else r="$r net:denied"; fi
if echo x 2>/dev/null > /usr/keyway-evil; then r="$r usr:WROTE"; else r="$r usr:denied"; fi
if echo x 2>/dev/null > /keyway-evil; then r="$r root:WROTE"; else r="$r root:denied"; fi
if echo x 2>/dev/null > "$OUTSIDE/evil"; then r="$r outside:WROTE"; else r="$r outside:denied"; fi
if echo x 2>/dev/null > /tmp/fine; then r="$r tmp:ok"; else r="$r tmp:FAILED"; fi
setsid sleep 4242 </dev/null >/dev/null 2>&1 &
sleep 4243 </dev/null >/dev/null 2>&1 &
n=\${#r}
printf '{"v":1,"id":"1","ok":true,"size":%d}\\n%s' "$n" "$r"
`;

async function listen(t: { after(fn: () => Promise<void> | void): void }): Promise<number> {
  const server: Server = createServer((s) => s.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

async function waitGone(marker: string): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const left = processesWith(marker);
    if (left.length === 0) return left;
    await new Promise((r) => setTimeout(r, 20));
  }
  return processesWith(marker);
}

test('a hostile plugin cannot read the key file or database, reach the network, write outside /tmp or leave a child behind', { skip: canSandbox() }, async (t) => {
  const dir = tempDir(t);
  // State lives inside a directory the plugin can otherwise see (a read-only bind), to prove the masking.
  const state = join(dir, 'state');
  // Readable by anyone, so masking (not file modes) is what must hide them.
  mkdirSync(state, { mode: 0o755 });
  writeFileSync(join(state, 'keyway.db'), 'SQLite format 3 pretend', { mode: 0o644 });
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, 'k'.repeat(32), { mode: 0o644 });
  const port = await listen(t);
  const plugin = script(dir, 'hostile', HOSTILE);
  const env = { STATE_DIR: state, KEY_FILE: keyFile, PORT: String(port), OUTSIDE: dir };
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('hostile', plugin, { env, roBinds: [dir] }), deps(logger, { hide: [state, keyFile] }));
  const report = (await host.lookup('x', {}, never)).value.expose().toString().trim().split(' ');
  assert.deepEqual(report, ['db:denied', 'key:denied', 'net:denied', 'usr:denied', 'root:denied', 'outside:denied', 'tmp:ok']);
  assert.deepEqual(await waitGone('sleep 4242'), [], 'setsid child was killed with the sandbox');
  assert.deepEqual(await waitGone('sleep 4243'), [], 'background child was killed');
  assert.deepEqual(await lastingZombies(), []);

  // Control: the same probes succeed where they should once allowed, so the test can see a hole.
  const open = new PluginHost(entryFor('hostile', plugin, { env, roBinds: [dir], allowNetwork: true }), deps(logger, { hide: [] }));
  const r2 = (await open.lookup('x', {}, never)).value.expose().toString();
  assert.match(r2, /db:READ/);
  assert.match(r2, /key:READ/);
  assert.match(r2, /net:CONNECTED/);
  await waitGone('sleep 4242');
});

test('without the sandbox the process group is still swept of background children', async (t) => {
  const dir = tempDir(t);
  const plugin = script(dir, 'bg', '#!/bin/sh\nread -r h\nsleep 4244 </dev/null >/dev/null 2>&1 &\nprintf \'{"v":1,"id":"1","ok":true,"size":2}\\nok\'\n');
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('bg', plugin, { sandbox: false }), deps(logger));
  assert.equal((await host.lookup('x', {}, never)).value.expose().toString(), 'ok');
  assert.deepEqual(await waitGone('sleep 4244'), []);
});

test('a plugin runs with only the allowed environment and no new privileges', { skip: canSandbox() }, async (t) => {
  const dir = tempDir(t);
  const plugin = script(dir, 'env', `#!/bin/sh
IFS= read -r h
out="$(env | sort | tr '\\n' ' ')$(grep NoNewPrivs /proc/self/status)"
printf '{"v":1,"id":"1","ok":true,"size":%d}\\n%s' \${#out} "$out"
`);
  process.env.KEYWAY_TEST_LEAK = 'should-not-pass';
  t.after(() => delete process.env.KEYWAY_TEST_LEAK);
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('envy', plugin, { env: { FOO: 'bar' } }), deps(logger));
  const out = (await host.lookup('x', {}, never)).value.expose().toString();
  assert.doesNotMatch(out, /KEYWAY_TEST_LEAK/);
  assert.match(out, /FOO=bar/);
  assert.match(out, /PATH=\/usr\/bin:\/bin/);
  assert.match(out, /KEYWAY_PLUGIN_PROTOCOL=1/);
  assert.match(out, /NoNewPrivs:\s+1/);
});

test('replacing the executable after registration refuses every spawn with a checksum error', async (t) => {
  const dir = tempDir(t);
  const plugin = script(dir, 'p', GOOD);
  const { logger } = captureLogger();
  const launches: unknown[] = [];
  const host = new PluginHost(entryFor('p', plugin), deps(logger, {}, launches as never));
  assert.equal((await host.lookup('x', {}, never)).value.expose().toString(), 'ok');
  appendFileSync(plugin, '# tampered\n');
  for (let i = 0; i < 3; i++) {
    await assert.rejects(host.lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'checksum_mismatch' && /checksums did not match/.test(e.message));
  }
  // Swapping in a different file by rename is caught the same way.
  const other = script(dir, 'other', GOOD.replace('ok', 'no'));
  renameSync(other, plugin);
  await assert.rejects(host.lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'checksum_mismatch');
  assert.equal(launches.length, 1, 'refused spawns are not launched');
});

test('plugin_dir: a symlink out of it, "..", a symlinked dir and a writable file are refused', async (t) => {
  const dir = tempDir(t);
  const pdir = join(dir, 'plugins');
  mkdirSync(pdir);
  mkdirSync(join(dir, 'elsewhere'));
  const outside = script(join(dir, 'elsewhere'), 'p', GOOD);
  symlinkSync(outside, join(pdir, 'link'));
  const inside = script(pdir, 'inside', GOOD);
  const { logger } = captureLogger();
  const sha = hashFile(outside);
  const d = deps(logger, { pluginDir: pdir });
  await assert.rejects(new PluginHost(entryFor('l', join(pdir, 'link'), { sha256: sha }), d).lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'permission_denied' && /outside of plugin_dir/.test(e.message));
  await assert.rejects(new PluginHost(entryFor('l', `${pdir}/../elsewhere/p`, { sha256: sha }), d).lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && /\.\./.test(e.message));
  assert.equal((await new PluginHost(entryFor('i', inside), d).lookup('x', {}, never)).value.expose().toString(), 'ok');
  symlinkSync(pdir, join(dir, 'plink'));
  await assert.rejects(new PluginHost(entryFor('i', inside), deps(logger, { pluginDir: join(dir, 'plink') })).lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'failed_precondition' && /symlink/.test(e.message));
  const loose = join(pdir, 'loose');
  copyFileSync(inside, loose);
  chmodSync(loose, 0o777);
  await assert.rejects(new PluginHost(entryFor('w', loose), d).lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'permission_denied' && /writable by group or others/.test(e.message) && e.message.includes(loose));
});

test('plugin_dir: a sibling sharing its prefix (plugins-evil/) and a subdirectory are outside it', async (t) => {
  const dir = tempDir(t);
  const pdir = join(dir, 'plugins');
  mkdirSync(join(pdir, 'sub'), { recursive: true });
  mkdirSync(`${pdir}-evil`);
  const evil = script(`${pdir}-evil`, 'p', GOOD);
  const nested = script(join(pdir, 'sub'), 'p', GOOD);
  symlinkSync(evil, join(pdir, 'to-evil'));
  const { logger } = captureLogger();
  const d = deps(logger, { pluginDir: pdir });
  const outside = (e: unknown): boolean => e instanceof KeywayError && e.code === 'permission_denied' && /outside of plugin_dir/.test(e.message);
  for (const p of [evil, nested, join(pdir, 'to-evil')]) {
    await assert.rejects(new PluginHost(entryFor('x', p, { sha256: hashFile(p) }), d).lookup('x', {}, never), outside, p);
    await assert.rejects(prepareRegistration({ name: 'x', path: p, dialect: 'podman' }, d, never), outside, `register ${p}`);
  }
  // Same file directly inside plugin_dir: fine.
  const inside = script(pdir, 'p', GOOD);
  assert.equal((await new PluginHost(entryFor('x', inside), d).lookup('x', {}, never)).value.expose().toString(), 'ok');
});
