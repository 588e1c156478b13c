// Template volumes (`-o template=FILE`): in-process through the plugin as `keyway serve` wires it
// (rendering, rotation, template edits), then with a real dockerd and `docker run`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretValue } from '../../../src/core/secret-value.js';
import { openContext, type Context } from '../../../src/daemon/context.js';
import { dockerFrontend } from '../../../src/daemon/docker.js';
import { unmountRoot } from '../../../src/delivery/mount-root.js';
import type { DockerPlugin } from '../../../src/frontends/docker-volume/plugin.js';
import { dockerSkipReason, startDockerd, type Dockerd } from '../../helpers/dockerd.js';
import { imageSkipReason, importDockerImage } from '../../helpers/images.js';
import { call } from './fixtures.js';
import { keywayPlugin, type KeywayPlugin } from './keyway-serve.js';
import { rootSkipReason } from '../../helpers/tools.js';

const rootSkip = rootSkipReason('needs root to mount the delivery tmpfs');
const dockerSkip = rootSkip || dockerSkipReason() || imageSkipReason();
if (dockerSkip) console.error(`docker template tests ${dockerSkip}`);

const ID = 'd'.repeat(64);
const PASSWORD = 'pa$$ "w\\ord"\n';
const HOST_SECRET = 'HOST-FILE-NOT-FOR-CONTAINERS';
const APP_CONF = 'user = {{ db_user }}\npassword = {{ db_password | trim | json }}\n';
const rendered = (user: string): string => `user = ${user}\npassword = ${JSON.stringify(PASSWORD.trim())}\n`;

/** A templates dir with a good template, a symlink out of it and an outside "host" file. */
function templatesDir(base: string): string {
  const dir = join(base, 'templates');
  mkdirSync(join(dir, 'conf'), { recursive: true });
  writeFileSync(join(dir, 'app.conf.tmpl'), APP_CONF);
  writeFileSync(join(dir, 'conf', 'nested.ini.tmpl'), '[db]\nuser={{ db_user }}\n');
  writeFileSync(join(dir, 'live.tmpl'), 'user={{ live_user | json }}\n');
  writeFileSync(join(base, 'host-secret'), HOST_SECRET);
  symlinkSync(join(base, 'host-secret'), join(dir, 'evil.tmpl'));
  return dir;
}

async function put(ctx: Context, name: string, value: string, replace = false): Promise<void> {
  await ctx.named.create({ name, value: SecretValue.copyOf(Buffer.from(value)), frontend: 'cli', replace }, AbortSignal.timeout(5000));
}

test('a template volume renders into a directory, re-renders on rotation and after a template edit', { skip: rootSkip }, async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'kw-dvt-'));
  const dir = templatesDir(base);
  const config = join(base, 'keyway.toml');
  writeFileSync(config, `[docker]\nenabled = true\nsocket = "${join(base, 'plugin.sock')}"\n[api]\nenabled = false\n[templates]\ndir = "${dir}"\n`);
  const ctx = openContext({ config, stateDir: join(base, 'state'), runtimeDir: join(base, 'run'), logLevel: 'silent' });
  const plugin: DockerPlugin = dockerFrontend(ctx);
  t.after(async () => {
    await plugin.close();
    await ctx.close();
    await unmountRoot(join(base, 'run')).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });
  await put(ctx, 'db_user', 'app');
  await put(ctx, 'db_password', PASSWORD);
  await plugin.start();
  assert.equal((await call(plugin.socket, '/VolumeDriver.Create', { Name: 'appconf', Opts: { template: 'app.conf.tmpl', mode: '0440' } })).status, 200);
  const info = await call(plugin.socket, '/VolumeDriver.Get', { Name: 'appconf' });
  assert.deepEqual((info.body.Volume as { Status: unknown }).Status, { Kind: 'template', Source: 'app.conf.tmpl', Mounts: 0 });
  const m = await call(plugin.socket, '/VolumeDriver.Mount', { Name: 'appconf', ID });
  assert.equal(m.status, 200, JSON.stringify(m.body));
  const file = join(String(m.body.Mountpoint), 'app.conf');
  assert.equal(readFileSync(file, 'utf8'), rendered('app'));
  assert.equal(statSync(file).mode & 0o777, 0o440);

  assert.equal(await plugin.driver.rotate(AbortSignal.timeout(10_000)), 0, 'nothing changed yet');
  await put(ctx, 'db_user', 'admin', true);
  assert.equal(await plugin.driver.rotate(AbortSignal.timeout(10_000)), 1);
  assert.equal(readFileSync(file, 'utf8'), rendered('admin'));
  writeFileSync(join(dir, 'app.conf.tmpl'), `# edited\n${APP_CONF}`);
  assert.equal(await plugin.driver.rotate(AbortSignal.timeout(10_000)), 1);
  assert.equal(readFileSync(file, 'utf8'), `# edited\n${rendered('admin')}`);
  await call(plugin.socket, '/VolumeDriver.Unmount', { Name: 'appconf', ID });
});

let d: Dockerd;
let kw: KeywayPlugin;
let img: string;
let base: string;

before(async () => {
  if (dockerSkip) return;
  base = mkdtempSync(join(tmpdir(), 'kw-dvt-docker-'));
  const dir = templatesDir(base);
  d = await startDockerd();
  kw = keywayPlugin();
  // Rotation checks every second, so a running container sees a re-render quickly.
  kw.instance.writeConfig(`[docker]\nenabled = true\nsocket = "${kw.socket}"\n[csi]\nenabled = false\n[templates]\ndir = "${dir}"\n[delivery]\nrefresh_interval_s = 1\n[broker]\ncache_ttl = "0s"\n`);
  await kw.start();
  img = importDockerImage(d.env);
  for (const [n, v] of [['db_user', 'app'], ['db_password', PASSWORD], ['live_user', 'v1']] as const) assert.equal(kw.instance.run(['secret', 'create', n, '-'], { input: v }).status, 0);
});

after(async () => {
  if (dockerSkip) return;
  d?.removeContainers();
  await d?.stop();
  await kw?.cleanup();
  rmSync(base, { recursive: true, force: true });
});

test('docker run with a -o template=app.conf.tmpl volume reads the exact rendered file', { skip: dockerSkip }, () => {
  const c = d.docker(['volume', 'create', '-d', kw.name, '-o', 'template=app.conf.tmpl', 'appconf']);
  assert.equal(c.status, 0, c.stderr);
  const r = d.docker(['run', '--rm', '--network', 'none', '-v', 'appconf:/etc/app', img, 'cat', '/etc/app/app.conf']);
  assert.equal(r.status, 0, `${r.stderr}\n${kw.logs().slice(-2000)}`);
  assert.equal(r.stdout.toString(), rendered('app'));
  const n = d.docker(['volume', 'create', '-d', kw.name, '-o', 'template=conf/nested.ini.tmpl', 'nested']);
  assert.equal(n.status, 0, n.stderr);
  const r2 = d.docker(['run', '--rm', '--network', 'none', '-v', 'nested:/etc/app', img, 'cat', '/etc/app/nested.ini']);
  assert.equal(r2.stdout.toString(), '[db]\nuser=app\n');
});

test('templates outside the templates dir are refused: "../", absolute and symlinked, and no host bytes reach the container', { skip: dockerSkip }, () => {
  for (const [name, fragment] of [
    ['../host-secret', /must not contain "\.\."/],
    [join(base, 'host-secret'), /no leading "\/"/],
  ] as const) {
    const c = d.docker(['volume', 'create', '-d', kw.name, '-o', `template=${name}`, `bad${name.length}`]);
    assert.notEqual(c.status, 0, `volume create with template=${name} was accepted`);
    assert.match(c.stderr, fragment);
  }
  const c = d.docker(['volume', 'create', '-d', kw.name, '-o', 'template=evil.tmpl', 'evil']);
  assert.equal(c.status, 0, c.stderr);
  const r = d.docker(['run', '--rm', '--network', 'none', '-v', 'evil:/etc/app', img, 'cat', '/etc/app/evil']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /symlink leading out of the templates dir/);
  assert.ok(!r.stdout.toString().includes(HOST_SECRET) && !r.stderr.includes(HOST_SECRET) && !kw.logs().includes(HOST_SECRET));
});

test('a running container sees its template volume re-rendered when a referenced secret changes', { skip: dockerSkip }, async () => {
  assert.equal(d.docker(['volume', 'create', '-d', kw.name, '-o', 'template=live.tmpl', 'live']).status, 0);
  const c = d.docker(['run', '-d', '--network', 'none', '-v', 'live:/etc/app', img, 'sleep', '300']);
  assert.equal(c.status, 0, c.stderr);
  const id = c.stdout.toString().trim();
  const read = (): string => d.docker(['exec', id, 'cat', '/etc/app/live']).stdout.toString();
  assert.equal(read(), 'user="v1"\n');
  assert.equal(kw.instance.run(['secret', 'create', 'live_user', '--replace', '-'], { input: 'v2' }).status, 0);
  const end = Date.now() + 30_000;
  while (read() !== 'user="v2"\n') {
    assert.ok(Date.now() < end, `no re-render seen in the container; last read ${JSON.stringify(read())}\n${kw.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  d.docker(['rm', '-f', id]);
});
