import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectPointer } from '../../../src/core/json-pointer.js';
import { parseReference } from '../../../src/core/reference.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { code as codeOf } from '../helpers.js';
import { req, setup } from './helpers.js';

const SECRET = 'hunter2-s3cr3t-value';

const isCode = (c: string, text?: RegExp) => codeOf(c, text, SECRET);

async function kvSetup(t: Parameters<typeof setup>[0]) {
  const s = await setup(t);
  const root = s.emu.rootToken();
  const kv2 = s.emu.state.mount('secret', 2);
  const kv1 = s.emu.state.mount('legacy', 1);
  const nested = s.emu.state.mount('team/a/kv', 2);
  s.emu.state.putV2(kv2, 'app', { password: SECRET, user: 'app', nested: { port: 5432 } });
  s.emu.state.putV2(nested, 'db/creds', { password: 'nested-pw' });
  kv1.v1.set('app', { password: 'v1-pw', token: 'abc' });
  const p = s.provider({}, { VAULT_TOKEN: root.id });
  return { ...s, root, kv2, kv1, nested, p };
}

test('a KV v2 secret is its data object as JSON, and a fragment selects a field through selectPointer', async (t) => {
  const { p } = await kvSetup(t);
  const ref = parseReference('ref+vault://secret/app#/password');
  const whole = await p.lookup(req(ref.path));
  assert.deepEqual(JSON.parse(whole.expose().toString('utf8')), { password: SECRET, user: 'app', nested: { port: 5432 } });
  assert.equal(selectPointer(whole, ref.pointer ?? [], 'ref').expose().toString(), SECRET);
  assert.equal(selectPointer(whole, ['nested', 'port'], 'ref').expose().toString(), '5432');
});

test('field selects one value as raw text, and encoding=base64 returns exact binary bytes', async (t) => {
  const { p, emu, kv2 } = await kvSetup(t);
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  emu.state.putV2(kv2, 'bin', { blob: bytes.toString('base64'), text: 'plain' });
  assert.equal((await p.lookup(req('secret/bin', { field: 'text' }))).expose().toString(), 'plain');
  assert.deepEqual((await p.lookup(req('secret/bin', { field: 'blob', encoding: 'base64' }))).expose(), bytes);
  await assert.rejects(p.lookup(req('secret/bin', { field: 'text', encoding: 'base64' })), isCode('invalid_argument', /not base64/));
  await assert.rejects(p.lookup(req('secret/bin', { encoding: 'base64' })), isCode('invalid_argument', /needs field/));
  await assert.rejects(p.lookup(req('secret/app', { field: 'nope' })), isCode('not_found', /no field "nope"/));
});

test('the mount is detected through sys/internal/ui/mounts, including nested mounts and KV v1', async (t) => {
  const { p, emu } = await kvSetup(t);
  assert.equal((await p.lookup(req('legacy/app', { field: 'password' }))).expose().toString(), 'v1-pw');
  assert.equal((await p.lookup(req('team/a/kv/db/creds', { field: 'password' }))).expose().toString(), 'nested-pw');
  const before = emu.requestsTo('sys/internal/ui/mounts/');
  await p.lookup(req('team/a/kv/db/creds'));
  assert.equal(emu.requestsTo('sys/internal/ui/mounts/'), before, 'a known mount is not asked about again');
  await assert.rejects(p.lookup(req('legacy/app', { version: '1' })), isCode('invalid_argument', /needs KV v2/));
  await assert.rejects(p.lookup(req('secret')), isCode('invalid_argument', /names the mount/));
});

test('configured mounts skip detection, and a denied preflight falls back to the first segment', async (t) => {
  const s = await setup(t);
  const kv1 = s.emu.state.mount('kv', 1);
  kv1.v1.set('x', { a: '1' });
  const root = s.emu.rootToken();
  const p = s.provider({ mounts: { kv: 1 } }, { VAULT_TOKEN: root.id });
  assert.equal((await p.lookup(req('kv/x', { field: 'a' }))).expose().toString(), '1');
  assert.equal(s.emu.requestsTo('sys/internal/ui/mounts/'), 0);

  // Servers without the preflight endpoint (or policies denying it): the first segment is the mount.
  s.emu.state.preflight = false;
  const q = s.provider({ kv_version: 1 }, { VAULT_TOKEN: root.id });
  assert.equal((await q.lookup(req('kv/x', { field: 'a' }))).expose().toString(), '1');
  assert.equal(s.emu.requestsTo('sys/internal/ui/mounts/'), 1);
  assert.equal((await q.lookup(req('kv/x', { field: 'a' }))).expose().toString(), '1');
  assert.equal(s.emu.requestsTo('sys/internal/ui/mounts/'), 1, 'the fallback is remembered');
});

test('version pinning reads an older KV v2 version', async (t) => {
  const { p, emu, kv2 } = await kvSetup(t);
  emu.state.putV2(kv2, 'app', { password: 'second' });
  assert.equal((await p.lookup(req('secret/app', { field: 'password' }))).expose().toString(), 'second');
  assert.equal((await p.lookup(req('secret/app', { field: 'password', version: '1' }))).expose().toString(), SECRET);
  await assert.rejects(p.lookup(req('secret/app', { version: '9' })), isCode('not_found', /version 9 of secret\/app does not exist/));
  await assert.rejects(p.lookup(req('secret/app', { version: '0' })), isCode('invalid_argument', /positive integer/));
});

test('a soft-deleted version is not_found with a message saying it was deleted, and a destroyed one says destroyed', async (t) => {
  const { p, emu, kv2 } = await kvSetup(t);
  emu.state.putV2(kv2, 'app', { password: 'second' });
  const s = kv2.v2.get('app');
  assert.ok(s);
  const v2 = s.versions.get(2);
  const v1 = s.versions.get(1);
  assert.ok(v1 && v2);
  v2.deletionTime = '2026-01-02T03:04:05Z';
  await assert.rejects(p.lookup(req('secret/app')), isCode('not_found', /secret\/app \(current version 2\) was deleted at 2026-01-02T03:04:05Z \(soft delete/));
  await assert.rejects(p.version(req('secret/app')), isCode('not_found', /was deleted/));
  v1.destroyed = true;
  v1.data = null;
  await assert.rejects(p.lookup(req('secret/app', { version: '1' })), isCode('not_found', /version 1 of secret\/app was destroyed/));
});

test('a missing secret is not_found naming the path', async (t) => {
  const { p } = await kvSetup(t);
  await assert.rejects(p.lookup(req('secret/missing')), isCode('not_found', /no secret at secret\/missing/));
  await assert.rejects(p.lookup(req('legacy/missing')), isCode('not_found', /legacy\/missing/));
  await assert.rejects(p.lookup(req('secret/../x')), isCode('invalid_argument', /"\.\."/));
  await assert.rejects(p.lookup(req('secret/data/app')), isCode('not_found', /without "data\/", e\.g\. secret\/app/));
});

test('a token without a policy for the path gets permission_denied, after one token check and no re-login', async (t) => {
  const s = await setup(t);
  const kv2 = s.emu.state.mount('secret', 2);
  s.emu.state.putV2(kv2, 'app', { password: SECRET });
  s.emu.state.putV2(kv2, 'other', { password: SECRET });
  s.emu.setPolicy('app', { 'secret/data/app': ['read'], 'secret/metadata/app': ['read'] });
  s.emu.addAppRole('r', 'role-1', 'sid-1', ['app']);
  const dir = mkdtempSync(join(tmpdir(), 'kw-vault-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'sid'), 'sid-1\n');
  const p = s.provider({ auth: { method: 'approle', role_id: 'role-1', secret_id_file: join(dir, 'sid') } });
  assert.equal((await p.lookup(req('secret/app', { field: 'password' }))).expose().toString(), SECRET);
  await assert.rejects(p.lookup(req('secret/other')), isCode('permission_denied', /read secret\/other: permission denied/));
  assert.equal(s.emu.requestsTo('auth/approle/login'), 1);
});

test('version comes from KV v2 metadata alone and changes on write', async (t) => {
  const { p, emu, kv2 } = await kvSetup(t);
  const v1 = await p.version(req('secret/app'));
  assert.equal(v1, await p.version(req('secret/app')));
  const dataReads = emu.requestsTo('secret/data/');
  emu.state.putV2(kv2, 'app', { password: 'rotated' });
  const v2 = await p.version(req('secret/app'));
  assert.notEqual(v2, v1);
  assert.equal(emu.requestsTo('secret/data/'), dataReads, 'version reads metadata only');
  assert.equal(await p.version(req('secret/app', { version: '1' })), 'v1');

});

test('version on a data-only policy and on KV v1 still changes when the value changes', async (t) => {
  const s = await setup(t);
  const kv2 = s.emu.state.mount('secret', 2);
  const kv1 = s.emu.state.mount('legacy', 1);
  s.emu.state.putV2(kv2, 'app', { a: '1' });
  kv1.v1.set('app', { a: '1' });
  s.emu.setPolicy('dataonly', { 'secret/data/*': ['read'], 'legacy/*': ['read'] });
  const tok = s.emu.state.issueToken({ policies: ['dataonly'], ttl: 3600 });
  const p = s.provider({ mounts: { secret: 2, legacy: 1 } }, { VAULT_TOKEN: tok.id });
  const a = await p.version(req('secret/app'));
  s.emu.state.putV2(kv2, 'app', { a: '2' });
  assert.notEqual(await p.version(req('secret/app')), a);
  const b = await p.version(req('legacy/app'));
  assert.equal(await p.version(req('legacy/app')), b);
  kv1.v1.set('app', { a: '2' });
  assert.notEqual(await p.version(req('legacy/app')), b);
});

test('store, list and delete round-trip on KV v2 and v1; delete is a soft delete on v2', async (t) => {
  const { p, kv2 } = await kvSetup(t);
  await p.store({ path: 'secret/new/one', value: SecretValue.fromString('{"k":"v"}'), options: {}, signal: new AbortController().signal });
  const bin = Buffer.from([0, 255, 1, 254]);
  await p.store({ path: 'secret/new/one', value: SecretValue.copyOf(bin), options: { field: 'bin', encoding: 'base64' }, signal: new AbortController().signal });
  assert.deepEqual((await p.lookup(req('secret/new/one', { field: 'bin', encoding: 'base64' }))).expose(), bin);
  assert.equal((await p.lookup(req('secret/new/one', { field: 'k' }))).expose().toString(), 'v');
  assert.deepEqual(await p.list({ prefix: 'secret/', signal: new AbortController().signal }), ['secret/app', 'secret/new/']);
  assert.deepEqual(await p.list({ prefix: 'secret/new', signal: new AbortController().signal }), ['secret/new/one']);
  await assert.rejects(p.store({ path: 'secret/x', value: SecretValue.fromString(SECRET), options: {}, signal: new AbortController().signal }), isCode('invalid_argument', /JSON object/));
  await p.delete(req('secret/new/one'));
  await assert.rejects(p.lookup(req('secret/new/one')), isCode('not_found', /was deleted/));
  assert.equal(kv2.v2.get('new/one')?.versions.size, 2, 'versions are kept (soft delete)');
  await assert.rejects(p.delete(req('secret/never')), isCode('not_found'));
  await p.store({ path: 'legacy/y', value: SecretValue.fromString('{"z":"1"}'), options: {}, signal: new AbortController().signal });
  assert.deepEqual(await p.list({ prefix: 'legacy', signal: new AbortController().signal }), ['legacy/app', 'legacy/y']);
  await p.delete(req('legacy/y'));
  await assert.rejects(p.lookup(req('legacy/y')), isCode('not_found'));
});

test('paths with spaces, "?", "#", "%" and non-ASCII characters reach Vault as one secret name', async (t) => {
  const { p } = await kvSetup(t);
  const path = 'secret/we ird?x=1#frag%20/ünï';
  await p.store({ path, value: SecretValue.fromString('{"k":"odd"}'), options: {}, signal: new AbortController().signal });
  assert.equal((await p.lookup(req(path, { field: 'k' }))).expose().toString(), 'odd');
  await assert.rejects(p.lookup(req('secret/we ird')), isCode('not_found'));
});
