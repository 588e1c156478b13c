import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../../src/core/errors.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { openDb } from '../../../src/store/db.js';
import { BlobsRepo } from '../../../src/store/blobs.js';
import { LocalProvider } from '../../../src/providers/local/index.js';

const signal = new AbortController().signal;

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'kw-local-'));
  const db = openDb(join(dir, 'state'));
  const keyPath = join(dir, 'state', 'local.key');
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, db, keyPath, provider: new LocalProvider('local', new BlobsRepo(db), keyPath) };
}

test('store then lookup returns the exact bytes and creates the key file 0600', async (t) => {
  const { provider, keyPath } = setup(t);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await provider.store({ path: 'b1', value: SecretValue.copyOf(all), options: {}, signal });
  const back = await provider.lookup({ path: 'b1', options: {}, signal });
  assert.deepEqual(back.expose(), all);
  assert.equal(statSync(keyPath).mode & 0o777, 0o600);
});

test('each write uses a fresh nonce, so the version changes even for equal content', async (t) => {
  const { provider } = setup(t);
  await provider.store({ path: 'b', value: SecretValue.fromString('x'), options: {}, signal });
  const v1 = await provider.version({ path: 'b', options: {}, signal });
  await provider.store({ path: 'b', value: SecretValue.fromString('x'), options: {}, signal });
  assert.notEqual(await provider.version({ path: 'b', options: {}, signal }), v1);
});

test('a ciphertext moved to another blob id fails authentication (AAD binds the id)', async (t) => {
  const { provider, db } = setup(t);
  await provider.store({ path: 'a', value: SecretValue.fromString('secret-a'), options: {}, signal });
  db.prepare("INSERT INTO local_blobs (id, key_id, nonce, ciphertext, tag, created_at) SELECT 'b', key_id, nonce, ciphertext, tag, created_at FROM local_blobs WHERE id = 'a'").run();
  await assert.rejects(provider.lookup({ path: 'b', options: {}, signal }), (e: unknown) => e instanceof KeywayError && e.code === 'checksum_mismatch');
});

test('a wrong key gives a clear error and destroys nothing', async (t) => {
  const { provider, keyPath, db } = setup(t);
  await provider.store({ path: 'a', value: SecretValue.fromString('secret-a'), options: {}, signal });
  await provider.close();
  const original = readFileSync(keyPath);
  writeFileSync(keyPath, Buffer.alloc(32, 7).toString('base64') + '\n', { mode: 0o600 });
  const other = new LocalProvider('local', new BlobsRepo(db), keyPath);
  await assert.rejects(other.lookup({ path: 'a', options: {}, signal }), (e: unknown) => e instanceof KeywayError && e.code === 'failed_precondition' && /was encrypted with key/.test(e.message));
  writeFileSync(keyPath, original);
  const fixed = new LocalProvider('local', new BlobsRepo(db), keyPath);
  assert.equal((await fixed.lookup({ path: 'a', options: {}, signal })).expose().toString(), 'secret-a');
});

test('a corrupt key file is reported and never replaced', async (t) => {
  const { provider, keyPath } = setup(t);
  writeFileSync(keyPath, 'garbage\n', { mode: 0o600 });
  await assert.rejects(provider.store({ path: 'a', value: SecretValue.fromString('v'), options: {}, signal }), (e: unknown) => e instanceof KeywayError && e.code === 'failed_precondition' && /corrupt/.test(e.message));
  assert.equal(readFileSync(keyPath, 'utf8'), 'garbage\n');
});

test('a missing key file with existing blobs is an error, not a new key', async (t) => {
  const { provider, keyPath, db } = setup(t);
  await provider.store({ path: 'a', value: SecretValue.fromString('v'), options: {}, signal });
  rmSync(keyPath);
  const fresh = new LocalProvider('local', new BlobsRepo(db), keyPath);
  await assert.rejects(fresh.lookup({ path: 'a', options: {}, signal }), /does not exist/);
});

test('the plaintext never appears in the database file', async (t) => {
  const { provider, dir, db } = setup(t);
  const canary = 'CANARY-local-plaintext-0042';
  await provider.store({ path: 'a', value: SecretValue.fromString(canary), options: {}, signal });
  db.pragma('wal_checkpoint(TRUNCATE)');
  assert.ok(!readFileSync(join(dir, 'state', 'keyway.db')).includes(canary));
});
