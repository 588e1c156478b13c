import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { testBroker } from '../helpers/broker.js';
import { MemoryProvider } from '../helpers/memory-provider.js';

const signal = new AbortController().signal;
const ctx = { identity: { frontend: 'test', consumer: 'c1' }, signal };

function setup(t: { after: (fn: () => void) => void }, maxSecretBytes = 1024) {
  const mem = new MemoryProvider('mem');
  return { mem, ...testBroker(t, [mem], { local: true, maxSecretBytes }) };
}

test('resolve fetches a reference through its provider', async (t) => {
  const { mem, broker } = setup(t);
  mem.values.set('app/db', 'pw');
  const r = await broker.resolve('ref+mem://app/db', ctx);
  assert.equal(r.value.expose().toString(), 'pw');
  assert.equal(r.provider, 'mem');
  assert.equal(r.source, 'ref+mem://app/db');
});

test('resolve follows a named secret to its reference and applies both fragments', async (t) => {
  const { mem, broker, named } = setup(t);
  mem.values.set('cfg', JSON.stringify({ db: { user: 'u', password: 'p' } }));
  await named.create({ name: 'dbcfg', ref: 'ref+mem://cfg#/db', mode: 0o440, frontend: 'test' }, signal);
  assert.equal((await broker.resolve('ref+secret://dbcfg#password', ctx)).value.expose().toString(), 'p');
  const whole = await broker.resolve('dbcfg', ctx);
  assert.deepEqual(JSON.parse(whole.value.expose().toString()), { user: 'u', password: 'p' });
  assert.equal(whole.mode, 0o440);
  assert.equal(whole.name, 'dbcfg');
});

test('a literal named secret is stored encrypted by the local provider', async (t) => {
  const { broker, named, db } = setup(t);
  const plain = 'CANARY-stored-encrypted-0xdeadbeef';
  const rec = await named.create({ name: 'lit', value: SecretValue.fromString(plain), frontend: 'test' }, signal);
  assert.equal((await broker.resolve('lit', ctx)).value.expose().toString(), plain);
  // What is on disk: one blob under the secret's id, ciphertext of the same length (GCM), a 12-byte
  // nonce and 16-byte tag, and the plaintext in no column of any table.
  const blob = db.prepare('SELECT * FROM local_blobs WHERE id = ?').get(rec.id) as { ciphertext: Buffer; nonce: Buffer; tag: Buffer } | undefined;
  assert.ok(blob, 'the value is a local blob named by the secret id');
  assert.equal(blob.ciphertext.length, plain.length);
  assert.equal(blob.nonce.length, 12);
  assert.equal(blob.tag.length, 16);
  assert.ok(!blob.ciphertext.equals(Buffer.from(plain)), 'the stored bytes are not the plaintext');
  for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]) {
    for (const row of db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[]) {
      for (const v of Object.values(row)) {
        const bytes = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
        assert.ok(!bytes.includes(Buffer.from(plain)), `plaintext found in table ${name}`);
      }
    }
  }
});

test('unknown options, unknown providers and missing names are refused before any lookup', async (t) => {
  const { mem, broker } = setup(t);
  await assert.rejects(broker.resolve('ref+mem://x?stage=a', ctx), /provider "mem" has no option "stage"/);
  await assert.rejects(broker.resolve('ref+nope://x', ctx), (e: unknown) => e instanceof KeywayError && e.code === 'not_found');
  await assert.rejects(broker.resolve('ghost', ctx), /no secret named "ghost"/);
  assert.equal(mem.calls, 0);
});

test('a value over the size limit is refused as too_large', async (t) => {
  const { mem, broker } = setup(t, 4);
  mem.values.set('big', '12345');
  await assert.rejects(broker.resolve('ref+mem://big', ctx), (e: unknown) => e instanceof KeywayError && e.code === 'too_large');
});

test('every resolve is audited with outcome and consumer, and never the value', async (t) => {
  const { mem, broker, audit } = setup(t);
  const canary = 'CANARY-audit-3141';
  mem.values.set('a', canary);
  (await broker.resolve('ref+mem://a', ctx)).value.zero();
  (await broker.resolve('ref+mem://a', ctx)).value.zero();
  mem.down = true;
  await assert.rejects(broker.resolve('ref+mem://a', { ...ctx, refresh: true }));
  const rows = audit.query();
  assert.deepEqual(
    rows.map((r) => [r.action, r.outcome, r.code ?? null, r.consumer, r.cache]),
    [
      ['resolve', 'ok', null, 'c1', 'miss'],
      ['resolve', 'ok', null, 'c1', 'hit'],
      ['resolve', 'error', 'unavailable', 'c1', 'miss'],
    ],
  );
  assert.ok(!JSON.stringify(rows).includes(canary));
});

test('a failed replace leaves the previous secret readable', async (t) => {
  const { broker, named } = setup(t);
  await named.create({ name: 's', value: SecretValue.fromString('old'), frontend: 'test' }, signal);
  await assert.rejects(named.create({ name: 's', ref: 'ref+nope://x', replace: true, frontend: 'test' }, signal));
  await assert.rejects(named.create({ name: 's', ref: 'ref+mem://x?bad=1', replace: true, frontend: 'test' }, signal));
  assert.equal((await broker.resolve('s', ctx)).value.expose().toString(), 'old');
});

test('replace swaps the value, keeps the creation time and drops the old ciphertext', async (t) => {
  const { broker, named, db } = setup(t);
  const first = await named.create({ name: 's', value: SecretValue.fromString('one'), frontend: 'test' }, signal);
  const second = await named.create({ name: 's', value: SecretValue.fromString('two'), replace: true, frontend: 'test' }, signal);
  assert.notEqual(second.id, first.id);
  assert.equal(second.createdAt, first.createdAt);
  assert.equal((await broker.resolve('s', ctx)).value.expose().toString(), 'two');
  assert.equal((db.prepare('SELECT count(*) AS n FROM local_blobs').get() as { n: number }).n, 1);
});

test('version uses a content HMAC when the provider has no version op, and it tracks changes', async (t) => {
  const { mem, broker } = setup(t);
  mem.values.set('a', 'one');
  const v1 = await broker.version('ref+mem://a', ctx);
  assert.equal(await broker.version('ref+mem://a', ctx), v1);
  mem.values.set('a', 'two');
  assert.notEqual(await broker.version('ref+mem://a', ctx), v1);
  assert.ok(!v1.includes('one'));
});
