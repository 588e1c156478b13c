// One canary secret pushed through every frontend of one keyway instance (serve at log level
// trace): CLI get, keyway run, admin API resolve, Docker volume Mount, Swarm GetSecret, CSI Mount,
// Podman shell-driver lookup (the fast path through the daemon), podman-plugin, and a plugin
// provider launched by serve. Then a scan for the canary's bytes: serve's logs, the state dir, the
// runtime dir once every set is released, new files in /tmp and /var/tmp, and the environ and
// cmdline of every process on the machine (keyway, its children and the plugin's) taken while the
// deliveries are live. The canary is random, so any hit is keyway's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { CLI, scanFor } from '../helpers/cli.js';
import { driverOpts, runDriverCommand } from '../helpers/shell-driver.js';
import { call } from '../frontends/docker-volume/fixtures.js';
import { keywayPlugin, type KeywayPlugin } from '../frontends/docker-volume/keyway-serve.js';
import { attributes, dial } from '../frontends/csi/harness.js';
import { canSandbox, script } from '../plugins/helpers.js';
import { rootSkipReason } from '../helpers/tools.js';

const skip = rootSkipReason('keyway serve mounts a tmpfs and needs root');
if (skip) console.error(`leaks: ${skip}`);
const noSandbox = canSandbox();
if (noSandbox) console.error(`leaks: plugin provider step SKIPPED: ${noSandbox}`);

// Printable but never produced by accident; no shell or JSON metacharacters.
const CANARY = Buffer.from(`CANARY-${randomBytes(12).toString('hex')}-leak`);
const PODMAN_ID = randomBytes(12).toString('hex') + '0';
const CHILD = join(import.meta.dirname, '..', 'delivery', 'fixtures', 'child.mjs');
// A Podman-protocol plugin that decodes the hex secret name: the canary is in no file and no argv.
const PLUGIN = `#!/bin/sh
IFS= read -r req
name=$(printf '%s' "$req" | sed -n 's/.*"SecretName":"\\([0-9a-f]*\\)".*/\\1/p')
[ -n "$name" ] || { echo "bad name" >&2; exit 1; }
exec perl -e 'print pack("H*", $ARGV[0])' "$name"
`;

let kw: KeywayPlugin;
let csiSocket: string;
let started = 0;
const procHits: string[] = [];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** environ and cmdline of every process that are readable, checked for the canary. */
function scanProcs(when: string, hits = procHits): string[] {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    for (const f of ['environ', 'cmdline']) {
      try {
        if (readFileSync(`/proc/${e}/${f}`).includes(CANARY)) hits.push(`${when}: /proc/${e}/${f} (${readFileSync(`/proc/${e}/cmdline`).toString().replaceAll('\0', ' ').slice(0, 200)})`);
      } catch {
        // gone, or a kernel thread
      }
    }
  }
  return hits;
}

/** Files under `dir` changed since the test started (not following symlinks, skipping other mounts' churn). */
function newFiles(dir: string, out: string[] = [], depth = 0): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    try {
      const st = lstatSync(p);
      if (st.isDirectory() && depth < 12) newFiles(p, out, depth + 1);
      else if (st.isFile() && st.mtimeMs >= started && st.size < 16 * 1024 * 1024) out.push(p);
    } catch {
      // raced with a delete
    }
  }
  return out;
}

function resolveApi(target: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((res, rej) => {
    const payload = JSON.stringify({ target });
    const req = request({ socketPath: join(kw.instance.runtimeDir, 'keyway.sock'), path: '/v1/resolve', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', rej);
    req.end(payload);
  });
}

/** One shell-driver command the way Podman runs it, with PODMAN_ID as the secret's id. */
const sh = (cmd: string, input: Buffer | string = '') => runDriverCommand(cmd, { id: PODMAN_ID, input });

before(async () => {
  if (skip) return;
  started = Date.now() - 1000;
  kw = keywayPlugin({ logLevel: 'trace' });
  const i = kw.instance;
  csiSocket = join(i.dir, 'csi', 'keyway.sock');
  i.writeConfig(`[docker]\nenabled = true\nsocket = "${kw.socket}"\n[csi]\nenabled = true\nsocket = "${csiSocket}"\n`);
  assert.equal(i.run(['secret', 'create', 'canary', '-'], { input: CANARY }).status, 0);
  if (!noSandbox) {
    const plugin = script(i.dir, 'hexplug', PLUGIN);
    const reg = i.run(['plugin', 'register', 'hexplug', plugin, '--dialect', 'podman']);
    assert.equal(reg.status, 0, reg.stderr.toString());
    const ref = i.run(['secret', 'create', 'via-plugin', '--ref', `ref+hexplug://${CANARY.toString('hex')}`]);
    assert.equal(ref.status, 0, ref.stderr.toString());
  }
  await kw.start();
});

after(async () => {
  if (skip) return;
  await kw?.cleanup();
});

test('keyway get prints the canary', { skip }, () => {
  const r = kw.instance.run(['get', 'canary']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(r.stdout, CANARY);
});

test('keyway run delivers the canary and neither it nor its child carries it in env or argv', { skip }, async () => {
  const i = kw.instance;
  const ready = join(i.dir, 'child.pid');
  const run = i.runAsync(['run', '--secret', 'canary,target=c', '--', process.execPath, CHILD, 'trap', 'SIGTERM', '0', ready]);
  for (let k = 0; k < 300 && !existsSync(ready); k++) await sleep(50);
  assert.ok(existsSync(ready), 'the child started');
  scanProcs('keyway run with its child alive');
  process.kill(Number(readFileSync(ready, 'utf8')), 'SIGTERM');
  const r = await run;
  assert.equal(r.status, 0, r.stderr);
});

test('the admin API resolves the canary over its socket', { skip }, async () => {
  const r = await resolveApi('canary');
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, CANARY);
});

test('a Docker volume and Swarm GetSecret deliver the canary', { skip }, async () => {
  const s = kw.socket;
  const id = 'd'.repeat(64);
  assert.equal((await call(s, '/VolumeDriver.Create', { Name: 'canary', Opts: {} })).status, 200);
  const m = await call(s, '/VolumeDriver.Mount', { Name: 'canary', ID: id });
  assert.equal(m.status, 200, JSON.stringify(m.body));
  assert.deepEqual(readFileSync(String(m.body.Mountpoint)), CANARY);
  scanProcs('volume mounted');
  assert.equal((await call(s, '/VolumeDriver.Unmount', { Name: 'canary', ID: id })).status, 200);
  const g = await call(s, '/SecretProvider.GetSecret', { SecretName: 'canary', ServiceName: 'svc', TaskID: 't1' });
  assert.equal(g.status, 200);
  assert.deepEqual(Buffer.from(String(g.body.Value), 'base64'), CANARY);
});

test('a CSI Mount answers the canary as file contents', { skip }, async () => {
  const client = dial(csiSocket);
  try {
    const res = await client.mount({ attributes: attributes('- {objectName: c, secret: canary}') });
    assert.deepEqual(res.files.map((f) => [f.path, Buffer.from(f.contents)]), [['c', CANARY]]);
  } finally {
    client.close();
  }
});

test('the Podman shell driver stores and looks up the canary through the daemon', { skip }, () => {
  const o = driverOpts(kw.instance.run(['podman', 'driver-opts']).stdout.toString());
  const st = sh(o.store ?? '', CANARY);
  assert.equal(st.status, 0, st.stderr.toString());
  const lk = sh(o.lookup ?? '');
  assert.equal(lk.status, 0, lk.stderr.toString());
  assert.deepEqual(lk.stdout, CANARY);
});

test('keyway podman-plugin looks up the canary', { skip }, () => {
  const i = kw.instance;
  const r = spawnSync(process.execPath, [CLI, '--state-dir', i.stateDir, '--config', i.configPath, 'podman-plugin'], {
    env: { PATH: '/usr/bin:/bin', KEYWAY_RUNTIME_DIR: i.runtimeDir },
    input: `${JSON.stringify({ Op: 'lookup', ID: PODMAN_ID, DriverOpts: {} })}\n`,
  });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(r.stdout, Buffer.concat([Buffer.from(`{"ID":"${PODMAN_ID}","Size":${CANARY.length}}\n`), CANARY]));
});

test('a plugin provider launched by serve delivers the canary', { skip: skip || noSandbox }, async () => {
  const r = await resolveApi('via-plugin');
  assert.equal(r.status, 200, r.body.toString());
  assert.deepEqual(r.body, CANARY);
  const v = kw.instance.run(['get', 'via-plugin']);
  assert.deepEqual(v.stdout, CANARY, v.stderr.toString());
});

test('afterwards the canary is in no log, no file of keyway, no new temp file, and no process env or argv', { skip }, async () => {
  scanProcs('at the end, serve alive');
  assert.deepEqual(procHits, [], 'environ/cmdline');
  // The scanner itself finds a planted canary, so the empty results above mean something.
  const planted = spawn('/bin/sleep', ['30'], { env: { PLANTED: CANARY.toString() }, stdio: 'ignore' });
  try {
    await sleep(200);
    assert.equal(scanProcs('planted', []).length, 1, 'the /proc scan finds a planted canary');
  } finally {
    planted.kill('SIGKILL');
  }
  const plantedFile = join(kw.instance.stateDir, 'planted');
  writeFileSync(plantedFile, CANARY);
  assert.deepEqual(scanFor([kw.instance.stateDir], CANARY), [plantedFile]);
  rmSync(plantedFile);
  const logs = Buffer.from(kw.logs());
  assert.equal(logs.includes(CANARY), false, 'serve log');
  assert.equal(logs.includes(CANARY.toString('base64')), false, 'serve log (base64)');
  assert.deepEqual(readdirSync(join(kw.instance.runtimeDir, 'mounts')).filter((e) => !e.startsWith('.')), [], 'every set released');
  assert.deepEqual(scanFor([kw.instance.stateDir, kw.instance.runtimeDir], CANARY), [], 'state and runtime dirs');
  const fresh = [...newFiles('/tmp'), ...newFiles('/var/tmp')];
  assert.deepEqual(scanFor(fresh, CANARY), [], 'new files in /tmp and /var/tmp');
});
