import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../../src/core/errors.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { BlobsRepo } from '../../../src/store/blobs.js';
import { podmanDriverFrom } from '../../../src/frontends/podman/wire.js';
import { PodmanSecretsRepo } from '../../../src/store/podman-secrets.js';
import { testBroker } from '../../helpers/broker.js';
import { MemoryProvider } from '../../helpers/memory-provider.js';

const signal = new AbortController().signal;
const ID = '0123456789abcdef012345678';
const ID2 = 'fedcba9876543210fedcba987';

function setup(t: { after: (fn: () => void) => void }) {
  const mem = new MemoryProvider('mem');
  const { db, broker, audit } = testBroker(t, [mem], { local: true, prefix: 'kw-podman-driver-' });
  return { db, mem, driver: podmanDriverFrom({ db, broker, audit }), repo: new PodmanSecretsRepo(db), blobs: new BlobsRepo(db) };
}

const val = (b: Buffer | string): SecretValue => SecretValue.copyOf(Buffer.from(b));

async function rejectsCode(p: Promise<unknown>, code: string, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KeywayError, String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test('a literal value is stored encrypted under the id and looked up byte for byte', async (t) => {
  const { driver, repo, blobs } = setup(t);
  const bytes = Buffer.from([0, 1, 2, 0, 255, 10, 13, 0]);
  await driver.store(ID, val(bytes), signal);
  const rec = repo.get(ID);
  assert.equal(rec?.ref, null);
  assert.equal(rec?.blobId, `podman-${ID}`);
  assert.ok(!blobs.get(`podman-${ID}`)?.ciphertext.includes(bytes));
  const got = await driver.lookup(ID, signal);
  assert.deepEqual(got.expose(), bytes);
});

test('a single ref+ line, with or without one trailing newline, is kept as a canonical reference', async (t) => {
  const { driver, repo, mem } = setup(t);
  mem.values.set('app/db', 'pw-from-mem');
  await driver.store(ID, val('ref+mem://app/db?version=2\n'), signal);
  await driver.store(ID2, val('ref+mem://app/db'), signal);
  assert.equal(repo.get(ID)?.ref, 'ref+mem://app/db?version=2');
  assert.equal(repo.get(ID2)?.ref, 'ref+mem://app/db');
  assert.equal((await driver.lookup(ID, signal)).expose().toString(), 'pw-from-mem');
});

test('a ref+ payload with more than one line is a literal value', async (t) => {
  const { driver, repo } = setup(t);
  await driver.store(ID, val('ref+mem://a\nsecond line\n'), signal);
  assert.equal(repo.get(ID)?.ref, null);
  assert.equal((await driver.lookup(ID, signal)).expose().toString(), 'ref+mem://a\nsecond line\n');
});

test('store refuses bad references, unknown providers, unknown options and empty or oversized data, and keeps nothing', async (t) => {
  const { driver, repo } = setup(t);
  await rejectsCode(driver.store(ID, val('ref+nope://x'), signal), 'not_found', /no provider named "nope"/);
  await rejectsCode(driver.store(ID, val('ref+mem://x?colour=red'), signal), 'invalid_argument', /no option "colour"/);
  await rejectsCode(driver.store(ID, val('ref+mem:/x'), signal), 'invalid_argument', /reference/);
  await rejectsCode(driver.store(ID, val(''), signal), 'invalid_argument', /empty/);
  await rejectsCode(driver.store(ID, val(Buffer.alloc(512000, 1)), signal), 'too_large', /512000/);
  await rejectsCode(driver.store(ID, val(Buffer.from([0x72, 0x65, 0x66, 0x2b, 0xff])), signal), 'invalid_argument', /UTF-8/);
  assert.deepEqual(repo.ids(), []);
  await driver.store(ID, val(Buffer.alloc(511999, 7)), signal);
  assert.equal((await driver.lookup(ID, signal)).length, 511999);
});

test('ids must be lowercase hex: empty, "..", paths and uppercase are refused', async (t) => {
  const { driver } = setup(t);
  for (const bad of ['', '..', '../x', 'ABCDEF', 'abc def', 'a'.repeat(65)]) {
    await rejectsCode(driver.store(bad, val('x'), signal), 'invalid_argument', /SECRET_ID/);
    await rejectsCode(driver.lookup(bad, signal), 'invalid_argument');
    await rejectsCode(driver.delete(bad, signal), 'invalid_argument');
  }
  await rejectsCode(driver.delete(undefined, signal), 'invalid_argument', /empty/);
});

test('storing an id twice is refused and the first value stays', async (t) => {
  const { driver } = setup(t);
  await driver.store(ID, val('first'), signal);
  await rejectsCode(driver.store(ID, val('second'), signal), 'already_exists');
  assert.equal((await driver.lookup(ID, signal)).expose().toString(), 'first');
});

test('delete removes the record and its ciphertext; unknown ids are not_found', async (t) => {
  const { driver, repo, blobs } = setup(t);
  await driver.store(ID, val('v'), signal);
  await driver.store(ID2, val('ref+mem://a'), signal);
  assert.deepEqual(driver.list(), [ID, ID2].sort());
  await driver.delete(ID, signal);
  assert.equal(repo.get(ID), undefined);
  assert.equal(blobs.get(`podman-${ID}`), undefined);
  await rejectsCode(driver.delete(ID, signal), 'not_found');
  await rejectsCode(driver.lookup(ID, signal), 'not_found');
  assert.deepEqual(driver.list(), [ID2]);
});

test('a failing provider fails the lookup with its message and changes nothing', async (t) => {
  const { driver, repo, mem } = setup(t);
  await driver.store(ID, val('ref+mem://app/db'), signal);
  mem.down = true;
  await rejectsCode(driver.lookup(ID, signal), 'unavailable', /backend unreachable/);
  assert.equal(repo.get(ID)?.ref, 'ref+mem://app/db');
});

test('store zeroes the buffer it was given', async (t) => {
  const { driver } = setup(t);
  const v = val('zero me');
  await driver.store(ID, v, signal);
  assert.equal(v.zeroed, true);
  const bad = val('');
  await rejectsCode(driver.store('', bad, signal), 'invalid_argument');
  assert.equal(bad.zeroed, true);
});
