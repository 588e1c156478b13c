// The plugin as `keyway serve` wires it (src/daemon/docker.ts): real broker, real local provider,
// real noswap tmpfs mount sets, real SQLite — driven over its socket without a container engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretValue } from '../../../src/core/secret-value.js';
import { openContext, type Context } from '../../../src/daemon/context.js';
import { dockerFrontend } from '../../../src/daemon/docker.js';
import { unmountRoot } from '../../../src/delivery/mount-root.js';
import { mountOf } from '../../../src/delivery/mountinfo.js';
import type { DockerPlugin } from '../../../src/frontends/docker-volume/plugin.js';
import { call } from './fixtures.js';
import { rootSkipReason } from '../../helpers/tools.js';

const skip = rootSkipReason('needs root to mount the delivery tmpfs');
if (skip) console.error(`delivery-backend tests ${skip}`);

const ID = 'c'.repeat(64);

interface World {
  readonly dir: string;
  open(): { ctx: Context; plugin: DockerPlugin };
}

function world(t: { after(fn: () => Promise<void> | void): void }): World {
  const dir = mkdtempSync(join(tmpdir(), 'kw-dvb-'));
  const config = join(dir, 'keyway.toml');
  writeFileSync(config, `[docker]\nenabled = true\nsocket = "${join(dir, 'plugin.sock')}"\n[api]\nenabled = false\n`);
  const opened: { ctx: Context; plugin: DockerPlugin }[] = [];
  t.after(async () => {
    for (const o of opened.reverse()) {
      await o.plugin.close();
      await o.ctx.close();
    }
    await unmountRoot(join(dir, 'run')).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    open() {
      const ctx = openContext({ config, stateDir: join(dir, 'state'), runtimeDir: join(dir, 'run'), logLevel: 'silent' });
      const plugin = dockerFrontend(ctx);
      opened.push({ ctx, plugin });
      return { ctx, plugin };
    },
  };
}

async function put(ctx: Context, name: string, value: string | Buffer, replace = false): Promise<void> {
  await ctx.named.create({ name, value: SecretValue.copyOf(Buffer.from(value)), frontend: 'cli', replace }, AbortSignal.timeout(5000));
}

test('a mounted volume is a file on the noswap tmpfs with the named secret\'s delivery defaults, wiped on unmount', { skip }, async (t) => {
  const w = world(t);
  const { ctx, plugin } = w.open();
  await ctx.named.create({ name: 'db', value: SecretValue.copyOf(Buffer.from([1, 0, 2])), mode: 0o440, uid: 4321, gid: 1234, frontend: 'cli' }, AbortSignal.timeout(5000));
  await plugin.start();
  const m = await call(plugin.socket, '/VolumeDriver.Mount', { Name: 'db', ID });
  assert.equal(m.status, 200, JSON.stringify(m.body));
  const mp = String(m.body.Mountpoint);
  assert.ok(mp.startsWith(join(w.dir, 'run', 'mounts') + '/'));
  const real = realpathSync(mp);
  assert.deepEqual(readFileSync(real), Buffer.from([1, 0, 2]));
  const st = statSync(real);
  assert.equal(st.mode & 0o777, 0o440);
  assert.equal(st.uid, 4321);
  assert.equal(st.gid, 1234);
  const fs = mountOf(real);
  assert.ok(fs && (fs.fsType === 'ramfs' || [...fs.mountOptions, ...fs.superOptions].includes('noswap')), `on ${fs?.fsType}`);
  const records = () => (ctx.db.prepare('SELECT count(*) AS n FROM mount_sets').get() as { n: number }).n;
  assert.equal(records(), 1, 'the live set is recorded while mounted');
  await call(plugin.socket, '/VolumeDriver.Unmount', { Name: 'db', ID });
  assert.equal(existsSync(real), false);
  assert.equal(records(), 0, 'unmount removes the record with the set');
});

test('rotation swaps new content into a live directory volume', { skip }, async (t) => {
  const w = world(t);
  const { ctx, plugin } = w.open();
  await put(ctx, 'a', 'one');
  await put(ctx, 'b', 'bee');
  await plugin.start();
  assert.equal((await call(plugin.socket, '/VolumeDriver.Create', { Name: 'dir', Opts: { secrets: 'a,b' } })).status, 200);
  const m = await call(plugin.socket, '/VolumeDriver.Mount', { Name: 'dir', ID });
  const dir = String(m.body.Mountpoint);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'one');
  await put(ctx, 'a', 'two', true);
  assert.equal(await plugin.driver.rotate(AbortSignal.timeout(10_000)), 1);
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'two');
  assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'bee');
  assert.equal(await plugin.driver.rotate(AbortSignal.timeout(10_000)), 0, 'unchanged content is not rewritten');
});

test('a restarted plugin adopts the live sets of the previous one and wipes them on unmount', { skip }, async (t) => {
  const w = world(t);
  const first = w.open();
  await put(first.ctx, 'db', 'keep-me');
  await first.plugin.start();
  const m = await call(first.plugin.socket, '/VolumeDriver.Mount', { Name: 'db', ID });
  const real = realpathSync(String(m.body.Mountpoint));
  await first.plugin.close();
  assert.equal(readFileSync(real, 'utf8'), 'keep-me', 'closing the plugin leaves running containers their secret');
  const second = w.open();
  await second.plugin.start();
  assert.equal(readFileSync(real, 'utf8'), 'keep-me', 'the orphan sweep spared the adopted set');
  const got = await call(second.plugin.socket, '/VolumeDriver.Get', { Name: 'db' });
  assert.equal((got.body.Volume as { Mountpoint: string }).Mountpoint, m.body.Mountpoint);
  await call(second.plugin.socket, '/VolumeDriver.Unmount', { Name: 'db', ID });
  assert.equal(existsSync(real), false);
  assert.ok(lstatSync(join(w.dir, 'run', 'mounts')).isDirectory());
});

test('a volume mounted before a restart keeps rotating: the timer of the new process swaps in a replaced secret', { skip }, async (t) => {
  const w = world(t);
  writeFileSync(join(w.dir, 'keyway.toml'), `[docker]\nenabled = true\nsocket = "${join(w.dir, 'plugin.sock')}"\n[api]\nenabled = false\n[delivery]\nrefresh_interval_s = 1\n`);
  const first = w.open();
  await put(first.ctx, 'a', 'one');
  await put(first.ctx, 'b', 'bee');
  await first.plugin.start();
  assert.equal((await call(first.plugin.socket, '/VolumeDriver.Create', { Name: 'dir', Opts: { secrets: 'a,b', mode: '0440' } })).status, 200);
  const dir = String((await call(first.plugin.socket, '/VolumeDriver.Mount', { Name: 'dir', ID })).body.Mountpoint);
  await first.plugin.close();
  const second = w.open();
  await second.plugin.start();
  await put(second.ctx, 'a', 'two', true);
  const deadline = Date.now() + 20_000;
  while (readFileSync(join(dir, 'a'), 'utf8') !== 'two' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'two', 'the adopted set was rotated');
  assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'bee');
  assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o440, 'the volume\'s options still apply after adoption');
  assert.equal(await second.plugin.driver.rotate(AbortSignal.timeout(10_000)), 0, 'once rotated, unchanged content is not rewritten');
  await call(second.plugin.socket, '/VolumeDriver.Unmount', { Name: 'dir', ID });
  assert.equal(existsSync(dir), false);
});

test('volume create checks a ref= option\'s provider and options at once, as secret create --ref does, and records nothing', { skip }, async (t) => {
  const w = world(t);
  const { ctx, plugin } = w.open();
  await plugin.start();
  const typo = await call(plugin.socket, '/VolumeDriver.Create', { Name: 'pw', Opts: { ref: 'ref+vualt://kv/app#/pw' } });
  assert.equal(typo.status, 500);
  assert.match(String(typo.body.Err), /not_found: no provider named "vualt"/);
  const opt = await call(plugin.socket, '/VolumeDriver.Create', { Name: 'pw', Opts: { ref: 'ref+local://x?colour=red' } });
  assert.match(String(opt.body.Err), /invalid_argument: reference: provider "local" has no option "colour"/);
  const named = await call(plugin.socket, '/VolumeDriver.Create', { Name: 'pw', Opts: { ref: 'ref+secret://nosuch' } });
  assert.match(String(named.body.Err), /not_found: no secret named "nosuch"/);
  assert.equal((ctx.db.prepare('SELECT count(*) AS n FROM volumes').get() as { n: number }).n, 0);
  await put(ctx, 'db', 'v');
  assert.equal((await call(plugin.socket, '/VolumeDriver.Create', { Name: 'pw', Opts: { ref: 'ref+secret://db' } })).status, 200);
});

test('a one-letter volume name is refused with the reason and the way to mount that secret', { skip }, async (t) => {
  const w = world(t);
  const { ctx, plugin } = w.open();
  await put(ctx, 'v', 'value');
  await plugin.start();
  const r = await call(plugin.socket, '/VolumeDriver.Create', { Name: 'v', Opts: { mode: '0400' } });
  assert.match(String(r.body.Err), /volume name "v" is one character; Docker volume names have at least two; .*-o secret=NAME VOLUME/);
  assert.equal((await call(plugin.socket, '/VolumeDriver.Create', { Name: 'vv', Opts: { secret: 'v' } })).status, 200);
  const m = await call(plugin.socket, '/VolumeDriver.Mount', { Name: 'vv', ID });
  assert.equal(readFileSync(realpathSync(String(m.body.Mountpoint)), 'utf8'), 'value');
  await call(plugin.socket, '/VolumeDriver.Unmount', { Name: 'vv', ID });
});
