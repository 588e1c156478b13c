import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { attributes, grpcError, MemoryResolver, startHarness, type Harness } from './harness.js';
import { KeywayError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { objectVersion } from '../../../src/frontends/csi/mount.js';
import { CsiFrontend } from '../../../src/frontends/csi/server.js';
import { VERSION_KEY_FILE, loadVersionKey } from '../../../src/frontends/csi/version-key.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.TOKEN-CANARY-5f1e.sig';
const TOKENS = { vault: { token: TOKEN, expirationTimestamp: '2026-11-22T06:00:00Z' } };

const OBJECTS = `
- objectName: db-password
  secret: db-password
- objectName: api/key
  ref: ref+vault://kv/shop/api#key
  mode: 0400
- objectName: tls.crt
  secret: tls-cert
  mode: "0444"
`;

/** A server over a resolver holding the secrets OBJECTS names. */
async function filledHarness(t: { after: (fn: () => Promise<void> | void) => void }): Promise<{ r: MemoryResolver; h: Harness }> {
  const r = new MemoryResolver();
  r.set('db-password', 'hunter2-CANARY');
  r.set('ref+vault://kv/shop/api#key', 'api-key-CANARY');
  r.set('tls-cert', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  return { r, h: await startHarness(t, r) };
}

/** Asserts the call failed with this gRPC status and keyway code, and returns the message. */
async function refused(h: Harness, attrs: string, grpcCode: status, keywayCode: string, extra: Record<string, string> = {}): Promise<string> {
  try {
    await h.client.mount({ attributes: attrs, ...extra });
  } catch (e) {
    const err = grpcError(e);
    assert.equal(err.code, grpcCode, `gRPC status for: ${err.details}`);
    assert.equal(err.keywayCode, keywayCode);
    return err.details;
  }
  assert.fail('mount was expected to fail');
}

test('Version answers the v1alpha1 health check with keyway as the runtime', async (t) => {
  const h = await startHarness(t, new MemoryResolver());
  const v = await h.client.version();
  assert.deepEqual(v, { version: 'v1alpha1', runtime_name: 'keyway', runtime_version: '0.0.0-test' });
});

test('the socket is created 0600 in its directory', async (t) => {
  const h = await startHarness(t, new MemoryResolver());
  const st = lstatSync(h.socket);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600);
});

test('Mount returns every object as a file with an explicit mode and an HMAC version', async (t) => {
  const { h } = await filledHarness(t);
  const res = await h.client.mount({ attributes: attributes(OBJECTS, {}, TOKENS), permission: '420' });
  assert.deepEqual(
    res.files.map((f) => [f.path, f.mode, f.contents.toString()]),
    [
      ['db-password', 0o644, 'hunter2-CANARY'],
      ['api/key', 0o400, 'api-key-CANARY'],
      ['tls.crt', 0o444, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'],
    ],
  );
  assert.equal(res.error ?? null, null);
  assert.deepEqual(res.object_version.map((v) => v.id), ['db-password', 'api/key', 'tls.crt']);
  const key = loadVersionKey(h.stateDir);
  for (const [i, v] of res.object_version.entries()) {
    assert.match(v.version, /^[0-9a-f]{64}$/);
    assert.equal(v.version, objectVersion(key, res.files[i]?.contents ?? Buffer.alloc(0)));
  }
  // The version is keyed, not a bare hash anyone could recompute from a guess.
  const { createHash } = await import('node:crypto');
  assert.notEqual(res.object_version[0]?.version, createHash('sha256').update('hunter2-CANARY').digest('hex'));
  const keyFile = statSync(join(h.stateDir, VERSION_KEY_FILE));
  assert.equal(keyFile.mode & 0o777, 0o600);
  assert.equal(keyFile.size, 32);
});

test('the pod identity and its service account tokens reach the resolver', async (t) => {
  const { r, h } = await filledHarness(t);
  await h.client.mount({ attributes: attributes(OBJECTS, { providerParams: 'role: shop-web' }, TOKENS) });
  assert.equal(r.seen.length, 3);
  for (const s of r.seen) {
    assert.equal(s.identity.frontend, 'csi');
    assert.equal(s.identity.consumer, '0f7c1e9a-5a43-4c1e-9d3e-2b1f6f1c7a10');
    assert.deepEqual(s.identity.pod, { name: 'web-7c9d', namespace: 'shop', uid: '0f7c1e9a-5a43-4c1e-9d3e-2b1f6f1c7a10', serviceAccount: 'web' });
    assert.deepEqual(s.tokens, { vault: TOKEN });
    assert.equal(s.identity.tokens?.get('vault')?.expiresAt, '2026-11-22T06:00:00Z');
    assert.deepEqual(s.identity.params, { role: 'shop-web' });
  }
  // Wiped once the mount is done.
  assert.equal(r.seen[0]?.identity.tokens?.get('vault')?.token.zeroed, true);
});

test('tokens passed in the secrets map are used too', async (t) => {
  const { r, h } = await filledHarness(t);
  const secrets = JSON.stringify({ 'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify(TOKENS) });
  await h.client.mount({ attributes: attributes('- {objectName: a, secret: db-password}'), secrets });
  assert.deepEqual(r.seen[0]?.tokens, { vault: TOKEN });
});

test('Mount is idempotent: a retried request gets the same files and versions', async (t) => {
  const { h } = await filledHarness(t);
  const req = { attributes: attributes(OBJECTS, {}, TOKENS) };
  const a = await h.client.mount(req);
  const b = await h.client.mount(req);
  assert.deepEqual(a, b);
});

test('changing a secret changes exactly that object version, and versions survive a restart', async (t) => {
  const { r, h } = await filledHarness(t);
  const req = { attributes: attributes(OBJECTS) };
  const before = await h.client.mount(req);
  r.set('ref+vault://kv/shop/api#key', 'api-key-ROTATED');
  const after = await h.client.mount(req);
  const v = (res: typeof before): string[] => res.object_version.map((o) => o.version);
  assert.equal(v(after)[0], v(before)[0]);
  assert.notEqual(v(after)[1], v(before)[1]);
  assert.equal(v(after)[2], v(before)[2]);
  assert.equal(after.files[1]?.contents.toString(), 'api-key-ROTATED');
  // A second server on the same state dir (a restarted DaemonSet pod) reports the same versions.
  const h2 = await startHarness(t, r, { stateDir: h.stateDir });
  assert.deepEqual(v(await h2.client.mount(req)), v(after));
});

test('traversal and unclean object names are refused before anything is fetched', async (t) => {
  const { r, h } = await filledHarness(t);
  for (const name of ['../x', '/abs', 'a/../../b', './a', 'a//b', 'a/', '..data', 'a/..2026_01_01', 'x'.repeat(256), `${'d/'.repeat(2100)}f`]) {
    const objects = JSON.stringify([{ objectName: 'ok', secret: 'db-password' }, { objectName: name, secret: 'db-password' }]);
    const msg = await refused(h, attributes(objects), status.INVALID_ARGUMENT, 'invalid_argument');
    assert.match(msg, /objectName/, msg);
  }
  assert.equal(r.calls, 0, 'nothing fetched');
  assert.deepEqual(readdirSync(h.stateDir), [], 'nothing written (not even the version key)');
});

test('duplicate names, unknown fields, malformed YAML or JSON and bad modes are clear errors', async (t) => {
  const { r, h } = await filledHarness(t);
  const cases: [string, Record<string, string>, RegExp][] = [
    [attributes('- {objectName: a, secret: db-password}\n- {objectName: a, secret: tls-cert}'), {}, /"a" is used by objects\[0\] and objects\[1\]/],
    [attributes('- {objectName: a, secret: db-password}\n- {objectName: a/b, secret: tls-cert}'), {}, /also a directory/],
    [attributes('- {objectName: a, secret: db-password, filePermission: "0400"}'), {}, /unknown field "filePermission"/],
    [attributes('- {objectName: a, secret: db-password, ref: "ref+vault://x"}'), {}, /exactly one of ref or secret/],
    [attributes('- {objectName: a}'), {}, /exactly one of ref or secret/],
    [attributes('- {objectName: a, ref: "vault://x"}'), {}, /ref must be a string starting with "ref\+"/],
    [attributes('- {objectName: a, secret: db-password, mode: 0}'), {}, /unreadable/],
    [attributes('- {objectName: a, secret: db-password, mode: "rw"}'), {}, /file mode/],
    [attributes('- objectName: [a\n  secret: x'), {}, /not valid YAML or JSON/],
    [attributes('[{"objectName": "a", "secret": "db-password"'), {}, /not valid YAML or JSON/],
    [attributes('objectName: a'), {}, /must be a YAML list/],
    [attributes('[]'), {}, /empty list/],
    [JSON.stringify({ objectz: '[]' }), {}, /unknown parameter "objectz"/],
    [JSON.stringify({ objects: '- {objectName: a, secret: db-password}', roleName: 'x' }), {}, /unknown parameter "roleName"/],
    [JSON.stringify({}), {}, /"objects" is missing/],
    ['{"objects": ', {}, /attributes is not valid JSON/],
    ['["objects"]', {}, /attributes must be a JSON object/],
    [attributes('- {objectName: a, secret: db-password}'), { secrets: '{nope' }, /secrets is not valid JSON/],
    [attributes('- {objectName: a, secret: db-password}'), { permission: 'rw-r--r--' }, /permission/],
    [attributes('- {objectName: a, secret: db-password}'), { target_path: '' }, /target_path is empty/],
    [attributes('- {objectName: a, secret: db-password}', { 'csi.storage.k8s.io/serviceAccount.tokens': '{"vault": {"expirationTimestamp": "x"}}' }), {}, /audience "vault" has no token/],
  ];
  for (const [attrs, extra, re] of cases) {
    const msg = await refused(h, attrs, status.INVALID_ARGUMENT, 'invalid_argument', extra);
    assert.match(msg, re);
  }
  assert.equal(r.calls, 0, 'nothing fetched');
  assert.deepEqual(readdirSync(h.stateDir), [], 'nothing written');
});

test('the Azure-style "array:" form of objects is accepted', async (t) => {
  const { h } = await filledHarness(t);
  const objects = 'array:\n  - |\n    objectName: one\n    secret: db-password\n  - |\n    objectName: two\n    secret: tls-cert\n';
  const res = await h.client.mount({ attributes: attributes(objects) });
  assert.deepEqual(res.files.map((f) => f.path), ['one', 'two']);
});

test('a missing secret fails the whole mount with NOT_FOUND naming the object', async (t) => {
  const { h } = await filledHarness(t);
  const msg = await refused(h, attributes('- {objectName: a, secret: db-password}\n- {objectName: b, secret: nope}'), status.NOT_FOUND, 'not_found');
  assert.match(msg, /object "b": no secret named "nope"/);
  assert.deepEqual(readdirSync(h.stateDir), [], 'nothing written');
});

test('a response over 4 MiB is refused with RESOURCE_EXHAUSTED', async (t) => {
  const r = new MemoryResolver();
  for (const n of ['a', 'b', 'c', 'd', 'e']) r.set(n, Buffer.alloc(1024 * 1024, 0x41));
  const h = await startHarness(t, r);
  const four = '- {objectName: a, secret: a}\n- {objectName: b, secret: b}\n- {objectName: c, secret: c}\n- {objectName: d, secret: d}\n';
  // Exactly 4 MiB of content plus framing is over the limit; 3 MiB is fine.
  const ok = await h.client.mount({ attributes: attributes('- {objectName: a, secret: a}\n- {objectName: b, secret: b}\n- {objectName: c, secret: c}\n') });
  assert.equal(ok.files.length, 3);
  const msg = await refused(h, attributes(`${four}- {objectName: e, secret: e}\n`), status.RESOURCE_EXHAUSTED, 'too_large');
  assert.match(msg, /over the 4194304-byte gRPC message limit/);
  await refused(h, attributes(four), status.RESOURCE_EXHAUSTED, 'too_large');
});

test('tokens and secret bytes never appear in the logs, on success or failure', async (t) => {
  const { h } = await filledHarness(t);
  await h.client.mount({ attributes: attributes(OBJECTS, {}, TOKENS) });
  // Failure paths that once leaked tokens elsewhere: a bad value next to the token, a marshal error.
  await refused(h, attributes('- {objectName: ../x, secret: db-password}', {}, TOKENS), status.INVALID_ARGUMENT, 'invalid_argument');
  const broken = `{"csi.storage.k8s.io/serviceAccount.tokens": "{\\"vault\\": {\\"token\\": \\"${TOKEN}\\"}", "objects": 1`;
  const msg = await refused(h, broken, status.INVALID_ARGUMENT, 'invalid_argument');
  assert.ok(!msg.includes('TOKEN-CANARY'), 'error message has no token');
  const badTokens = attributes('- {objectName: a, secret: db-password}', { 'csi.storage.k8s.io/serviceAccount.tokens': `{"vault": {"token": "${TOKEN}"` });
  assert.ok(!(await refused(h, badTokens, status.INVALID_ARGUMENT, 'invalid_argument')).includes('TOKEN-CANARY'));
  await refused(h, attributes('- {objectName: a, secret: nope}', {}, TOKENS), status.NOT_FOUND, 'not_found');
  const logs = h.logs();
  assert.match(logs, /csi mount/, 'the logger did capture the mounts');
  assert.match(logs, /csi mount refused/);
  for (const canary of ['TOKEN-CANARY', 'hunter2-CANARY', 'api-key-CANARY', 'BEGIN CERTIFICATE']) assert.ok(!logs.includes(canary), `logs contain ${canary}`);
});

test('close removes the socket', async (t) => {
  const h = await startHarness(t, new MemoryResolver());
  await h.frontend.close();
  await h.frontend.close();
  assert.throws(() => lstatSync(h.socket), { code: 'ENOENT' });
});

test('a stale socket left by a killed process is replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-csi-stale-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'keyway.sock');
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.stdout.write('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  assert.ok(lstatSync(socket).isSocket(), 'stale socket left behind');
  const h = await startHarness(t, new MemoryResolver(), { socket });
  assert.equal((await h.client.version()).version, 'v1alpha1');
});

test('a live socket, a non-socket file and a symlinked parent directory are refused', async (t) => {
  const live = await startHarness(t, new MemoryResolver());
  const other = new CsiFrontend({ socket: live.socket, resolver: new MemoryResolver(), logger: silentLogger(), stateDir: live.stateDir, version: 'x' });
  await assert.rejects(other.start(), { code: 'already_exists' });
  await other.close();
  assert.equal((await live.client.version()).version, 'v1alpha1', 'the live server is untouched');

  const dir = mkdtempSync(join(tmpdir(), 'kw-csi-refuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'file.sock'), 'not a socket');
  const onFile = new CsiFrontend({ socket: join(dir, 'file.sock'), resolver: new MemoryResolver(), logger: silentLogger(), stateDir: dir, version: 'x' });
  await assert.rejects(onFile.start(), { code: 'failed_precondition' });
  assert.equal(readFileSync(join(dir, 'file.sock'), 'utf8'), 'not a socket');

  mkdirSync(join(dir, 'real'));
  symlinkSync(join(dir, 'real'), join(dir, 'link'));
  const viaLink = new CsiFrontend({ socket: join(dir, 'link', 'keyway.sock'), resolver: new MemoryResolver(), logger: silentLogger(), stateDir: dir, version: 'x' });
  await assert.rejects(viaLink.start(), { code: 'failed_precondition' });
  assert.deepEqual(readdirSync(join(dir, 'real')), []);
});

/** Resolves after `ms`, or rejects when the mount's signal fires; records whether it was aborted. */
class SlowResolver extends MemoryResolver {
  aborted = 0;
  #started: () => void = () => {};
  /** Settles when the first resolve begins, i.e. the mount is in flight on the server. */
  readonly started = new Promise<void>((resolve) => (this.#started = resolve));
  constructor(readonly ms: number) {
    super();
  }
  override async resolve(target: string, ctx: Parameters<MemoryResolver['resolve']>[1]): ReturnType<MemoryResolver['resolve']> {
    this.#started();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, this.ms);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        this.aborted++;
        reject(new KeywayError('cancelled', 'backend call cancelled'));
      });
    });
    return super.resolve(target, ctx);
  }
}

test('a mount that outlives its deadline fails DEADLINE_EXCEEDED and cancels the backend calls', async (t) => {
  const r = new SlowResolver(10_000);
  r.set('a', 'x');
  const h = await startHarness(t, r, { mountTimeoutMs: 100 });
  const msg = await refused(h, attributes('- {objectName: a, secret: a}'), status.DEADLINE_EXCEEDED, 'timeout');
  assert.match(msg, /timed out/);
  assert.equal(r.aborted, 1);
});

test('close lets an in-flight mount finish before the socket goes away', async (t) => {
  const r = new SlowResolver(300);
  r.set('a', 'in-flight');
  const h = await startHarness(t, r);
  const pending = h.client.mount({ attributes: attributes('- {objectName: a, secret: a}') });
  await r.started;
  await h.frontend.close();
  const res = await pending;
  assert.equal(res.files[0]?.contents.toString(), 'in-flight');
  assert.throws(() => lstatSync(h.socket), { code: 'ENOENT' });
});
