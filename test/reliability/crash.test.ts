// Faults of the real `keyway serve` (Docker volume frontend): SIGKILL while many Mounts are in
// flight and while the refresher swaps live sets, then a restart; and a provider that is down.
// Each asserts what the user sees and that nothing was lost: answered mounts are adopted with
// whole files, unanswered ones are swept, the store still serves every secret, and after the
// Unmounts nothing is left.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDbFile } from '../../src/store/db.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { openContext } from '../../src/daemon/context.js';
import { CLI } from '../helpers/cli.js';
import { call, type PluginReply } from '../frontends/docker-volume/fixtures.js';
import { keywayPlugin, type KeywayPlugin } from '../frontends/docker-volume/keyway-serve.js';
import { VaultEmulator } from '../emulators/vault/server.js';
import { rootSkipReason } from '../helpers/tools.js';

const skip = rootSkipReason('keyway serve mounts a tmpfs and needs root');
if (skip) console.error(`crash: ${skip}`);

const CHILD = join(import.meta.dirname, '..', 'delivery', 'fixtures', 'child.mjs');
const SECRETS = 64;
const WIDTH = 8;
const SIZE = 16 * 1024;
const name = (n: number): string => `s${n}`;
/** Values big enough that a set takes a while to write; the generation is in every byte run. */
const value = (n: number, gen: string): Buffer => Buffer.from(`${gen}:${n}:`.padEnd(SIZE, gen === 'old' ? 'o' : 'n'));

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withPlugin(t: TestContext, extraToml = '', env: Record<string, string> = {}): Promise<KeywayPlugin> {
  const kw = keywayPlugin();
  Object.assign(kw.instance.env, env);
  t.after(() => kw.cleanup());
  kw.instance.writeConfig(`[docker]\nenabled = true\nsocket = "${kw.socket}"\n${extraToml}`);
  const ctx = openContext({ config: kw.instance.configPath, stateDir: kw.instance.stateDir, runtimeDir: kw.instance.runtimeDir });
  try {
    for (let n = 0; n < SECRETS; n++) await ctx.named.create({ name: name(n), value: SecretValue.copyOf(value(n, 'old')), frontend: 'test' }, new AbortController().signal);
  } finally {
    await ctx.close();
  }
  await kw.start();
  return kw;
}

async function kill(kw: KeywayPlugin): Promise<void> {
  const pid = kw.pid();
  assert.ok(pid);
  process.kill(pid, 'SIGKILL');
  while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')) await sleep(20);
  await kw.stop();
}

/** Starts serve again and waits until the new process answers on the socket. */
async function restart(kw: KeywayPlugin): Promise<void> {
  await kw.start();
  const end = Date.now() + 30_000;
  for (;;) {
    const ok = await call(kw.socket, '/Plugin.Activate', '').then((r) => r.status === 200 && kw.pid() !== undefined, () => false);
    if (ok) return;
    if (Date.now() > end) throw new Error(`serve did not come back:\n${kw.logs().slice(-3000)}`);
    await sleep(100);
  }
}

function records(kw: KeywayPlugin): { sets: string[]; mounts: { mount_id: string; mount_set_id: string; volume: string }[] } {
  const db = openDbFile(join(kw.instance.stateDir, 'keyway.db'));
  try {
    return {
      sets: (db.prepare('SELECT id FROM mount_sets ORDER BY id').all() as { id: string }[]).map((r) => r.id),
      mounts: db.prepare('SELECT volume, mount_id, mount_set_id FROM volume_mounts').all() as { mount_id: string; mount_set_id: string; volume: string }[],
    };
  } finally {
    db.close();
  }
}

function setDirs(kw: KeywayPlugin): string[] {
  const root = join(kw.instance.runtimeDir, 'mounts');
  return existsSync(root) ? readdirSync(root).filter((e) => !e.startsWith('.')).sort() : [];
}

const volumeFiles = (k: number): number[] => Array.from({ length: WIDTH }, (_, j) => (k * 5 + j) % SECRETS);
const idOf = (k: number): string => k.toString(16).padStart(64, '0');

async function createVolumes(kw: KeywayPlugin, count: number): Promise<void> {
  for (let k = 0; k < count; k++) {
    const r = await call(kw.socket, '/VolumeDriver.Create', { Name: `v${k}`, Opts: { secrets: volumeFiles(k).map(name).join(',') } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

/** Every file of the mount is whole: exactly one of the allowed generations of its secret. */
function assertWhole(mountpoint: string, k: number, gens: readonly string[]): string[] {
  return volumeFiles(k).map((n) => {
    const got = readFileSync(join(mountpoint, name(n)));
    const gen = gens.find((g) => got.equals(value(n, g)));
    assert.ok(gen, `v${k}/${name(n)} is not a whole version (${got.length} bytes)`);
    return gen;
  });
}

/** After a restart: records and directories agree, every recorded mount is whole, Unmount cleans all. */
async function assertRecoveredAndClean(kw: KeywayPlugin, answered: ReadonlySet<number>, gens: readonly string[]): Promise<void> {
  const rec = records(kw);
  assert.deepEqual(setDirs(kw), [...rec.sets].sort(), 'set directories and mount_sets records agree (orphans swept)');
  assert.deepEqual([...new Set(rec.mounts.map((m) => m.mount_set_id))].sort(), [...rec.sets].sort(), 'every set left belongs to a recorded volume mount');
  const recorded = new Set(rec.mounts.map((m) => Number(m.volume.slice(1))));
  for (const k of answered) assert.ok(recorded.has(k), `answered mount v${k} was adopted`);
  for (const m of rec.mounts) {
    const k = Number(m.volume.slice(1));
    const p = await call(kw.socket, '/VolumeDriver.Path', { Name: m.volume });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assertWhole(String(p.body.Mountpoint), k, gens);
    assert.equal((await call(kw.socket, '/VolumeDriver.Unmount', { Name: m.volume, ID: m.mount_id })).status, 200);
  }
  assert.deepEqual(setDirs(kw), [], 'no set left after the Unmounts');
  assert.deepEqual(records(kw), { sets: [], mounts: [] });
  // The store lost nothing: every secret is served, by the restarted daemon too.
  for (let n = 0; n < SECRETS; n += 7) {
    const g = kw.instance.run(['get', name(n)]);
    assert.ok(gens.some((gen) => g.stdout.equals(value(n, gen))), `secret ${name(n)}: ${g.stderr.toString()}`);
  }
  assert.equal(kw.instance.run(['secret', 'ls', '-q']).stdout.toString().trim().split('\n').length, SECRETS);
  const m = await call(kw.socket, '/VolumeDriver.Mount', { Name: 'v0', ID: 'e'.repeat(64) });
  assert.equal(m.status, 200, 'a new mount works after the restart');
  assertWhole(String(m.body.Mountpoint), 0, gens.slice(-1));
  assert.equal((await call(kw.socket, '/VolumeDriver.Unmount', { Name: 'v0', ID: 'e'.repeat(64) })).status, 200);
}

test('SIGKILL of serve with 150 Mounts in flight and of a keyway run: answered mounts are adopted whole, dead owners\' sets swept, nothing lost', { skip }, async (t) => {
  const kw = await withPlugin(t);
  const N = 150;
  await createVolumes(kw, N);
  // A `keyway run` SIGKILLed while its child runs leaves a recorded set with a dead owner as well.
  const ready = join(kw.instance.dir, 'child.pid');
  const run = spawn(process.execPath, [CLI, 'run', '--secret', `${name(1)},target=x`, '--', process.execPath, CHILD, 'trap', 'SIGTERM', '0', ready], { env: kw.instance.env, stdio: 'ignore' });
  for (let k = 0; k < 300 && !existsSync(ready); k++) await sleep(50);
  assert.ok(existsSync(ready), 'keyway run started its child');
  run.kill('SIGKILL');
  process.kill(Number(readFileSync(ready, 'utf8')), 'SIGKILL');
  await new Promise((r) => (run.exitCode !== null || run.signalCode !== null ? r(undefined) : run.once('exit', r)));
  const answered = new Set<number>();
  let first: () => void = () => undefined;
  const firstAnswer = new Promise<void>((r) => (first = r));
  const inflight = Array.from({ length: N }, (_, k) =>
    call(kw.socket, '/VolumeDriver.Mount', { Name: `v${k}`, ID: idOf(k) }).then(
      (r: PluginReply) => {
        if (r.status === 200) {
          answered.add(k);
          // Kill once the pipeline is full: sets are being recorded and written concurrently.
          if (answered.size >= N / 5) first();
        }
      },
      () => undefined,
    ),
  );
  await firstAnswer;
  await kill(kw);
  await Promise.all(inflight);
  assert.ok(answered.size > 0 && answered.size < N, `the kill hit mid-flight (${answered.size}/${N} answered)`);
  // Sets recorded for mounts that never got their volume record are what the restart must sweep.
  const dead = records(kw);
  const claimed = new Set(dead.mounts.map((m) => m.mount_set_id));
  const orphans = dead.sets.filter((id) => !claimed.has(id));
  t.diagnostic(`${answered.size}/${N} mounts answered before the kill; ${dead.sets.length} sets and ${dead.mounts.length} volume mounts recorded; ${orphans.length} orphaned sets to sweep, ${setDirs(kw).length} set dirs`);
  await restart(kw);
  assert.ok(orphans.length > 0, 'the dead keyway run left a set to sweep');
  assert.match(kw.logs(), /swept orphaned mount sets/);
  for (const id of orphans) assert.equal(existsSync(join(kw.instance.runtimeDir, 'mounts', id)), false, `orphan ${id} swept`);
  await assertRecoveredAndClean(kw, answered, ['old']);
});

test('SIGKILL of serve while the refresher swaps live sets: every file is whole, old or new, and nothing is lost', { skip }, async (t) => {
  const kw = await withPlugin(t, '[delivery]\nrefresh_interval_s = 1\n[broker]\ncache_ttl = "0s"\n');
  const N = 40;
  await createVolumes(kw, N);
  const mps: string[] = [];
  for (let k = 0; k < N; k++) {
    const m = await call(kw.socket, '/VolumeDriver.Mount', { Name: `v${k}`, ID: idOf(k) });
    assert.equal(m.status, 200, JSON.stringify(m.body));
    mps.push(String(m.body.Mountpoint));
  }
  // Rotate every secret in the store (serve picks it up on its next refresh tick).
  const ctx = openContext({ config: kw.instance.configPath, stateDir: kw.instance.stateDir, runtimeDir: kw.instance.runtimeDir });
  try {
    for (let n = 0; n < SECRETS; n++) await ctx.named.create({ name: name(n), value: SecretValue.copyOf(value(n, 'new')), replace: true, frontend: 'test' }, new AbortController().signal);
  } finally {
    await ctx.close();
  }
  // Kill as soon as the first file shows the new generation: the refresher is mid-pass.
  const end = Date.now() + 20_000;
  const rotated = (): boolean => mps.some((mp, k) => readFileSync(join(mp, name(volumeFiles(k)[0] ?? 0)))[0] === 'n'.charCodeAt(0));
  while (!rotated()) {
    assert.ok(Date.now() < end, `the refresher never rotated:\n${kw.logs().slice(-2000)}`);
    await sleep(5);
  }
  await kill(kw);
  // While serve is down, containers still read whole files.
  for (let k = 0; k < N; k++) assertWhole(mps[k] ?? '', k, ['old', 'new']);
  await restart(kw);
  await assertRecoveredAndClean(kw, new Set(Array.from({ length: N }, (_, k) => k)), ['old', 'new']);
});

test('a reference to a stopped backend is a clear unavailable for the docker client and the CLI, and the store stays intact', { skip }, async (t) => {
  const emu = await VaultEmulator.start();
  const address = emu.url;
  await emu.close();
  const kw = await withPlugin(t, `[providers.vault]\ntype = "vault"\naddress = "${address}"\n`, { VAULT_TOKEN: 'e2e-token' });
  const i = kw.instance;
  assert.equal(i.run(['secret', 'create', 'down', '--ref', 'ref+vault://secret/app#/pw']).status, 0);
  const before = i.run(['secret', 'ls', '-q']).stdout.toString();
  assert.equal((await call(kw.socket, '/VolumeDriver.Create', { Name: 'down', Opts: {} })).status, 200);
  const m = await call(kw.socket, '/VolumeDriver.Mount', { Name: 'down', ID: idOf(1) });
  assert.equal(m.status, 500);
  assert.match(String(m.body.Err), /^keyway: unavailable: .*vault/);
  const g = i.run(['get', 'down']);
  assert.equal(g.status, 1);
  assert.match(g.stderr.toString(), /^keyway: unavailable: .*vault/);
  // Nothing was lost or left: the store is unchanged, other secrets serve, no set or record remains.
  assert.equal(i.run(['secret', 'ls', '-q']).stdout.toString(), before);
  assert.deepEqual(i.run(['get', name(3)]).stdout, value(3, 'old'));
  assert.deepEqual(setDirs(kw), []);
  assert.deepEqual(records(kw), { sets: [], mounts: [] });
  assert.ok(statSync(kw.socket).isSocket(), 'still serving');
  assert.equal((await call(kw.socket, '/VolumeDriver.List', {})).status, 200);
});
