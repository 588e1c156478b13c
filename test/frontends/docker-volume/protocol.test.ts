// The docker.volumedriver/1.0 and Swarm secret provider wire protocol against an in-test backend
// (real HTTP over a real unix socket, real SQLite). Engine tests live in docker-engine.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { call, fakeWorld } from './fixtures.js';

const ID1 = 'a'.repeat(64);
const ID2 = 'b'.repeat(64);

test('activate lists the volume driver and the secret provider and answers JSON whatever the headers', async (t) => {
  const w = fakeWorld(t);
  const p = w.plugin();
  await p.start();
  const docker = await call(p.socket, '/Plugin.Activate');
  assert.equal(docker.status, 200);
  assert.deepEqual(docker.body, { Implements: ['VolumeDriver', 'secretprovider'] });
  assert.match(docker.contentType, /json/);
  const podman = await call(p.socket, '/Plugin.Activate', {}, { 'content-type': 'application/vnd.docker.plugins.v1.1+json' });
  assert.deepEqual(podman.body, { Implements: ['VolumeDriver', 'secretprovider'] });
  const caps = await call(p.socket, '/VolumeDriver.Capabilities', '');
  assert.deepEqual(caps.body, { Capabilities: { Scope: 'local' } });
  assert.equal((statSync(p.socket).mode & 0o777).toString(8), '660');
});

test('mount returns the file path for a single-secret volume and unmount wipes the set', async (t) => {
  const w = fakeWorld(t);
  w.secrets.set('db', { bytes: Buffer.from([0, 1, 2, 255, 10]), createdAt: '2026-11-22T05:00:00.123Z' });
  const p = w.plugin();
  await p.start();
  assert.equal((await call(p.socket, '/VolumeDriver.Create', { Name: 'db', Opts: null })).status, 200);
  const m = await call(p.socket, '/VolumeDriver.Mount', { Name: 'db', ID: ID1 });
  assert.equal(m.status, 200, JSON.stringify(m.body));
  const mp = String(m.body.Mountpoint);
  assert.ok(statSync(mp).isFile());
  assert.deepEqual(readFileSync(mp), Buffer.from([0, 1, 2, 255, 10]));
  const got = await call(p.socket, '/VolumeDriver.Get', { Name: 'db' });
  assert.equal((got.body.Volume as { Mountpoint: string }).Mountpoint, mp);
  assert.equal((got.body.Volume as { CreatedAt: string }).CreatedAt, '2026-11-22T05:00:00Z');
  assert.equal((await call(p.socket, '/VolumeDriver.Path', { Name: 'db' })).body.Mountpoint, mp);
  assert.equal((await call(p.socket, '/VolumeDriver.Unmount', { Name: 'db', ID: ID1 })).status, 200);
  assert.equal(existsSync(mp), false);
  assert.equal(w.released.length, 1);
  assert.equal(w.repo.listMounts().length, 0);
});

test('each mount ID gets its own set and a repeated ID is reference-counted', async (t) => {
  const w = fakeWorld(t);
  w.secrets.set('db', { bytes: Buffer.from('pw'), createdAt: new Date().toISOString() });
  const p = w.plugin();
  await p.start();
  const [a, b] = await Promise.all([call(p.socket, '/VolumeDriver.Mount', { Name: 'db', ID: ID1 }), call(p.socket, '/VolumeDriver.Mount', { Name: 'db', ID: ID2 })]);
  assert.notEqual(a.body.Mountpoint, b.body.Mountpoint);
  await call(p.socket, '/VolumeDriver.Unmount', { Name: 'db', ID: ID1 });
  assert.equal(readFileSync(String(b.body.Mountpoint), 'utf8'), 'pw');
  // Podman: one fixed ID, several mounts.
  const again = await call(p.socket, '/VolumeDriver.Mount', { Name: 'db', ID: ID2 });
  assert.equal(again.body.Mountpoint, b.body.Mountpoint);
  await call(p.socket, '/VolumeDriver.Unmount', { Name: 'db', ID: ID2 });
  assert.equal(readFileSync(String(b.body.Mountpoint), 'utf8'), 'pw');
  await call(p.socket, '/VolumeDriver.Unmount', { Name: 'db', ID: ID2 });
  assert.equal(existsSync(String(b.body.Mountpoint)), false);
  // Unmount of an unknown ID is idempotent.
  assert.equal((await call(p.socket, '/VolumeDriver.Unmount', { Name: 'db', ID: ID2 })).status, 200);
});

test('a secrets= volume mounts a directory holding every listed secret with the requested mode', async (t) => {
  const w = fakeWorld(t);
  w.secrets.set('a', { bytes: Buffer.from('A'), createdAt: new Date().toISOString() });
  w.secrets.set('b', { bytes: Buffer.from('B'), createdAt: new Date().toISOString() });
  const p = w.plugin();
  await p.start();
  const c = await call(p.socket, '/VolumeDriver.Create', { Name: 'multi', Opts: { secrets: 'a,b', mode: '0440' } });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const m = await call(p.socket, '/VolumeDriver.Mount', { Name: 'multi', ID: ID1 });
  const dir = String(m.body.Mountpoint);
  assert.ok(statSync(dir).isDirectory());
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'A');
  assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'B');
  assert.equal((statSync(join(dir, 'b')).mode & 0o777).toString(8), '440');
  const busy = await call(p.socket, '/VolumeDriver.Remove', { Name: 'multi' });
  assert.equal(busy.status, 500);
  assert.match(String(busy.body.Err), /in use/);
});

test('a ref= volume is persisted and found by Get and List after a restart of the plugin', async (t) => {
  const w = fakeWorld(t);
  w.refs.set('ref+vault://kv/app#/pw', Buffer.from('from-vault'));
  w.secrets.set('named', { bytes: Buffer.from('n'), createdAt: new Date().toISOString() });
  const p1 = w.plugin();
  await p1.start();
  const c = await call(p1.socket, '/VolumeDriver.Create', { Name: 'app', Opts: { ref: 'ref+vault://kv/app#/pw', uid: '1000', gid: '1000', mode: '0400' } });
  assert.equal(c.status, 200, JSON.stringify(c.body));
  const m = await call(p1.socket, '/VolumeDriver.Mount', { Name: 'app', ID: ID1 });
  await p1.close();
  const p2 = w.plugin(p1.socket);
  await p2.start();
  const got = await call(p2.socket, '/VolumeDriver.Get', { Name: 'app' });
  assert.equal(got.status, 200);
  const vol = got.body.Volume as { Name: string; Mountpoint: string; Status: Record<string, unknown> };
  assert.equal(vol.Name, 'app');
  assert.equal(vol.Mountpoint, m.body.Mountpoint, 'the live mount was adopted');
  assert.equal(vol.Status.Source, 'ref+vault://kv/app', 'inspect shows no fragment or query');
  const list = await call(p2.socket, '/VolumeDriver.List', {});
  assert.deepEqual((list.body.Volumes as { Name: string }[]).map((v) => v.Name), ['app', 'named']);
  assert.equal((await call(p2.socket, '/VolumeDriver.Unmount', { Name: 'app', ID: ID1 })).status, 200);
  assert.equal(existsSync(String(m.body.Mountpoint)), false, 'the adopted set was wiped on Unmount');
  assert.equal((await call(p2.socket, '/VolumeDriver.Remove', { Name: 'app' })).status, 200);
  assert.equal((await call(p2.socket, '/VolumeDriver.Get', { Name: 'app' })).status, 500);
});

test('bad input is answered with HTTP 500 and a clear Err, and the plugin keeps serving', async (t) => {
  const w = fakeWorld(t);
  w.secrets.set('db', { bytes: Buffer.from('pw'), createdAt: new Date().toISOString() });
  const p = w.plugin();
  await p.start();
  const cases: [string, unknown, RegExp][] = [
    ['/VolumeDriver.Create', { Name: 'a/b', Opts: {} }, /invalid_argument: volume name "a\/b" contains "\/"/],
    ['/VolumeDriver.Create', { Name: '..', Opts: {} }, /invalid_argument: volume name must not be "\.\."/],
    ['/VolumeDriver.Create', { Name: '', Opts: {} }, /invalid_argument: volume name is empty/],
    ['/VolumeDriver.Create', { Name: 'x1', Opts: { colour: 'red' } }, /unknown volume option "colour"/],
    ['/VolumeDriver.Create', { Name: 'x2', Opts: { ref: 'vault://nope' } }, /reference: must start with "ref\+"/],
    ['/VolumeDriver.Create', { Name: 'x3', Opts: { ref: 'ref+a://b', secret: 'db' } }, /exclude each other/],
    ['/VolumeDriver.Create', { Name: 'x4', Opts: { secret: 'db', mode: '999' } }, /option mode="999" is not an octal/],
    ['/VolumeDriver.Create', { Name: 'x5', Opts: { secret: 'db', uid: '-1' } }, /option uid="-1"/],
    ['/VolumeDriver.Create', { Name: 'missing', Opts: {} }, /not_found: no volume or named secret "missing"/],
    ['/VolumeDriver.Create', { Name: 'x6', Opts: { secrets: 'db,nope' } }, /not_found: no named secret "nope"/],
    ['/VolumeDriver.Mount', { Name: 'missing', ID: ID1 }, /not_found/],
    ['/VolumeDriver.Mount', { Name: 'db' }, /mount ID is missing/],
    ['/VolumeDriver.Get', { Name: 'missing' }, /not_found/],
    ['/VolumeDriver.Create', '{not json', /not valid JSON/],
  ];
  for (const [path, body, re] of cases) {
    const r = await call(p.socket, path, body);
    // Bad input is 400, anything else 500; both carry the code in Err.
    assert.equal(r.status, /invalid_argument/.test(String(r.body.Err)) ? 400 : 500, `${path} ${JSON.stringify(body)}`);
    assert.match(String(r.body.Err), re);
    assert.match(String(r.body.Err), /^keyway: /);
  }
  assert.equal(w.repo.list().length, 0, 'no failed create left a volume behind');
  const c = await call(p.socket, '/VolumeDriver.Create', { Name: 'broken', Opts: { ref: 'ref+broken://x' } });
  assert.equal(c.status, 200);
  const m = await call(p.socket, '/VolumeDriver.Mount', { Name: 'broken', ID: ID1 });
  assert.equal(m.status, 500);
  assert.match(String(m.body.Err), /unavailable: provider "broken" is unreachable/);
  assert.equal(w.repo.listMounts().length, 0);
  const big = await call(p.socket, '/VolumeDriver.Create', JSON.stringify({ Name: 'big', Opts: { x: 'y'.repeat(2 * 1024 * 1024) } }));
  assert.equal(big.status, 500);
  assert.equal((await call(p.socket, '/VolumeDriver.Nope', {})).status, 404);
  assert.equal((await call(p.socket, '/VolumeDriver.Get', { Name: 'db' })).status, 200, 'still serving');
});

test('creating an existing volume again is idempotent with the same options and refused with others', async (t) => {
  const w = fakeWorld(t);
  const p = w.plugin();
  await p.start();
  assert.equal((await call(p.socket, '/VolumeDriver.Create', { Name: 'v1', Opts: { ref: 'ref+x://a' } })).status, 200);
  assert.equal((await call(p.socket, '/VolumeDriver.Create', { Name: 'v1', Opts: { ref: 'ref+x://a' } })).status, 200);
  assert.equal((await call(p.socket, '/VolumeDriver.Create', { Name: 'v1', Opts: null })).status, 200);
  const other = await call(p.socket, '/VolumeDriver.Create', { Name: 'v1', Opts: { ref: 'ref+x://b' } });
  assert.equal(other.status, 500);
  assert.match(String(other.body.Err), /already_exists/);
  assert.deepEqual(w.repo.get('v1')?.opts, { ref: 'ref+x://a' });
});

test('rotation rewrites a live directory volume in place', async (t) => {
  const w = fakeWorld(t);
  w.secrets.set('a', { bytes: Buffer.from('old'), createdAt: new Date().toISOString() });
  const p = w.plugin();
  await p.start();
  await call(p.socket, '/VolumeDriver.Create', { Name: 'rot', Opts: { secrets: 'a' } });
  const m = await call(p.socket, '/VolumeDriver.Mount', { Name: 'rot', ID: ID1 });
  assert.equal(await p.driver.rotate(AbortSignal.timeout(5000)), 0, 'nothing changed yet');
  w.secrets.set('a', { bytes: Buffer.from('new'), createdAt: new Date().toISOString() });
  assert.equal(await p.driver.rotate(AbortSignal.timeout(5000)), 1);
  assert.equal(readFileSync(join(String(m.body.Mountpoint), 'a'), 'utf8'), 'new');
});

test('swarm GetSecret resolves keyway.ref, then keyway.secret, then the secret name', async (t) => {
  const w = fakeWorld(t);
  const bytes = Buffer.from([0, 0xff, 0x10, 0x0a]);
  w.secrets.set('plain', { bytes, createdAt: new Date().toISOString() });
  w.secrets.set('other', { bytes: Buffer.from('other'), createdAt: new Date().toISOString() });
  w.refs.set('ref+vault://kv/x', Buffer.from('viaref'));
  const p = w.plugin();
  await p.start();
  const get = async (req: unknown): Promise<{ status: number; value?: Buffer; err?: string }> => {
    const r = await call(p.socket, '/SecretProvider.GetSecret', req);
    return { status: r.status, ...(typeof r.body.Value === 'string' ? { value: Buffer.from(r.body.Value, 'base64') } : {}), ...(typeof r.body.Err === 'string' ? { err: r.body.Err } : {}) };
  };
  assert.deepEqual((await get({ SecretName: 'plain', ServiceName: 's', TaskID: 't1' })).value, bytes);
  assert.deepEqual((await get({ SecretName: 'x', SecretLabels: { 'keyway.secret': 'other' } })).value, Buffer.from('other'));
  assert.deepEqual((await get({ SecretName: 'x', SecretLabels: { 'keyway.ref': 'ref+vault://kv/x', 'keyway.secret': 'other' } })).value, Buffer.from('viaref'));
  const missing = await get({ SecretName: 'nope', SecretLabels: {} });
  assert.equal(missing.status, 500);
  assert.match(missing.err ?? '', /not_found: swarm secret "nope" from named secret "nope"/);
  const badRef = await get({ SecretName: 'x', SecretLabels: { 'keyway.ref': 'nope' } });
  assert.match(badRef.err ?? '', /invalid_argument: label keyway.ref of swarm secret "x"/);
  assert.match((await get({})).err ?? '', /SecretName is missing/);
});

test('a live plugin socket is refused and a stale one is replaced', async (t) => {
  const w = fakeWorld(t);
  const stale = join(w.dir, 'stale.sock');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(stale, r));
  const p1 = w.plugin(stale);
  await assert.rejects(p1.start(), /another server is listening/);
  await new Promise((r) => srv.close(r));
  // A process that exits without closing its server leaves a dead socket file behind.
  spawnSync(process.execPath, ['-e', "require('net').createServer().listen(process.argv[1], () => process.exit(0))", stale]);
  assert.ok(statSync(stale).isSocket());
  const p2 = w.plugin(stale);
  await p2.start();
  assert.equal((await call(stale, '/Plugin.Activate')).status, 200);
});

test('a mount the client gave up on is released instead of leaking', async (t) => {
  const w = fakeWorld(t);
  w.secrets.set('slow', { bytes: Buffer.from('x'), createdAt: new Date().toISOString() });
  const p = w.plugin();
  await p.start();
  const body = JSON.stringify({ Name: 'slow', ID: ID1 });
  const req = request({ socketPath: p.socket, path: '/VolumeDriver.Mount', method: 'POST', agent: false, headers: { 'content-length': Buffer.byteLength(body) } });
  req.on('error', () => undefined);
  req.end(body);
  await new Promise((r) => setTimeout(r, 100));
  req.destroy();
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(p.driver.liveMounts, 0);
  assert.equal(w.repo.listMounts().length, 0);
  // The values are dropped as the client leaves; a set written by then would be wiped.
  assert.deepEqual(readdirSync(w.setsDir), [], 'nothing was left for the client that gave up');
  assert.equal((await call(p.socket, '/VolumeDriver.Get', { Name: 'slow' })).status, 200, 'still serving');
});
