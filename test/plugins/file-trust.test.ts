// Who can change a plugin file, and whether what runs is what was hashed: a file owned by another
// user, group-writable, or in a directory others can write is refused at register and at every
// spawn; a script rewritten in place while it runs keeps running the verified bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { PluginHost } from '../../src/plugins/host/host.js';
import { prepareRegistration } from '../../src/plugins/register.js';
import { rootSkipReason } from '../helpers/tools.js';
import { canSandbox, captureLogger, deps, entryFor, script, tempDir } from './helpers.js';

const never = new AbortController().signal;
const GOOD = `#!/bin/sh
IFS= read -r h
printf '{"v":1,"id":"1","ok":true,"size":2}\\nok'
`;
const rootOnly = rootSkipReason('needs root to give files to another user');

/** Both the register and the spawn path refuse `path` with permission_denied, naming `named`. */
async function refusedEverywhere(path: string, named: string, why: RegExp): Promise<void> {
  const { logger } = captureLogger();
  const d = deps(logger);
  const ok = (e: unknown): boolean => e instanceof KeywayError && e.code === 'permission_denied' && e.message.includes(named) && why.test(e.message);
  await assert.rejects(prepareRegistration({ name: 'p', path, dialect: 'podman' }, d, never), ok, `register ${path}`);
  await assert.rejects(new PluginHost(entryFor('p', path), d).lookup('x', {}, never), ok, `spawn ${path}`);
}

test('a plugin owned by another user is refused at register and at spawn', { skip: rootOnly }, async (t) => {
  const p = script(tempDir(t), 'p', GOOD);
  chownSync(p, 65534, 65534);
  await refusedEverywhere(p, p, /owned by uid 65534/);
});

test('a group-writable plugin is refused at register and at spawn', async (t) => {
  const p = script(tempDir(t), 'p', GOOD);
  chmodSync(p, 0o775);
  await refusedEverywhere(p, p, /writable by group or others \(mode 0775\)/);
});

test('a plugin in a world-writable (not sticky) directory is refused at register and at spawn', async (t) => {
  const dir = join(tempDir(t), 'open');
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const p = script(dir, 'p', GOOD);
  await refusedEverywhere(p, dir, /writable by group or others \(mode 0777\)/);
});

test('a plugin under a group-writable or foreign-owned ancestor directory is refused', { skip: rootOnly }, async (t) => {
  const top = tempDir(t);
  const mid = join(top, 'mid');
  mkdirSync(join(mid, 'deep'), { recursive: true });
  const p = script(join(mid, 'deep'), 'p', GOOD);
  chmodSync(mid, 0o775);
  await refusedEverywhere(p, mid, /writable by group or others/);
  chmodSync(mid, 0o755);
  chownSync(mid, 65534, 65534);
  await refusedEverywhere(p, mid, /owned by uid 65534/);
});

test('a root-owned plugin in a sticky world-writable directory (like /tmp) runs', async (t) => {
  const dir = join(tempDir(t), 'sticky');
  mkdirSync(dir);
  chmodSync(dir, 0o1777);
  const p = script(dir, 'p', GOOD);
  const { logger } = captureLogger();
  const reg = await prepareRegistration({ name: 'p', path: p, dialect: 'podman' }, deps(logger), never);
  assert.equal(reg.record.path, p);
  assert.equal((await new PluginHost(entryFor('p', p), deps(logger)).lookup('x', {}, never)).value.expose().toString(), 'ok');
});

test('a script rewritten in place while it runs keeps running the bytes that were verified', { skip: canSandbox() }, async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'go');
  execFileSync('mkfifo', ['-m', '0666', fifo]);
  // bash reads a script as it goes: after the external `cat` returns it reads the next line from
  // the file, so a rewrite of the original during the wait would be what runs next.
  const plugin = script(dir, 'p', `#!/bin/bash
IFS= read -r h
cat "$GO" >/dev/null
v=old-value
printf '{"v":1,"id":"1","ok":true,"size":%d}\\n%s' \${#v} "$v"
`);
  const { logger } = captureLogger();
  const entry = entryFor('p', plugin, { env: { GO: fifo }, roBinds: [dir] });
  const host = new PluginHost(entry, deps(logger));
  const answer = host.lookup('x', {}, never);
  // Opening for writing completes only once the plugin is blocked reading: the rewrite lands mid-run.
  const w = await open(fifo, 'w');
  const original = readFileSync(plugin, 'utf8');
  writeFileSync(plugin, original.replace('old-value', 'NEW-value'), { flag: 'r+' });
  await w.write('\n');
  await w.close();
  assert.equal((await answer).value.expose().toString(), 'old-value');
  // And the next spawn refuses the rewritten file.
  await assert.rejects(host.lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'checksum_mismatch');
});

test('the private copy a plugin runs from is removed when it exits, and copies left by a dead keyway are swept', async (t) => {
  const dir = tempDir(t);
  const copies = join(dir, 'copies');
  mkdirSync(copies);
  const stale = join(copies, 'keyway-plugin-999999999-abcdef');
  mkdirSync(stale);
  const p = script(dir, 'p', GOOD);
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('p', p, { sandbox: false }), deps(logger, { copyDir: copies }));
  assert.equal((await host.lookup('x', {}, never)).value.expose().toString(), 'ok');
  for (let i = 0; i < 50 && readdirSync(copies).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(readdirSync(copies), []);
});
