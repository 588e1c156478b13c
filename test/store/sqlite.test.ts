// The node:sqlite handle: transactions that nest, Buffers for BLOBs, and SQLite's failures as
// KeywayErrors with the codes the rest of keyway relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { openDbFile, type Db } from '../../src/store/db.js';
import { VolumesRepo } from '../../src/store/volumes.js';
import { tempDb } from './temp-db.js';

const names = (db: Db): string[] => (db.prepare('SELECT name FROM volumes ORDER BY name').all() as { name: string }[]).map((r) => r.name);
const add = (db: Db, name: string): void => void db.prepare("INSERT INTO volumes (name, created_at) VALUES (?, 'now')").run(name);

test('a failing inner transaction undoes only its own writes; a failing outer one undoes everything', (t) => {
  const { db } = tempDb(t);
  db.transaction(() => {
    add(db, 'outer');
    assert.throws(() => db.transaction(() => {
      add(db, 'inner');
      throw new Error('inner fails');
    }).immediate(), /inner fails/);
  })();
  assert.deepEqual(names(db), ['outer']);
  const failure = new KeywayError('invalid_argument', 'outer fails');
  assert.throws(() => db.transaction(() => {
    add(db, 'second');
    db.transaction(() => add(db, 'nested'))();
    throw failure;
  }).immediate(), (e: unknown) => e === failure, 'the error thrown inside comes out unchanged');
  assert.deepEqual(names(db), ['outer']);
  assert.equal(db.transaction(() => 42)(), 42);
});

test('BLOBs come back as Buffers and rows as plain objects', (t) => {
  const { db } = tempDb(t);
  db.prepare("INSERT INTO local_blobs (id, key_id, nonce, ciphertext, tag, created_at) VALUES ('b', 'k', ?, ?, ?, 'now')").run(Buffer.from([1, 2]), Buffer.from([0, 255, 0]), Buffer.alloc(16));
  const row = db.prepare('SELECT nonce, ciphertext FROM local_blobs').get() as { nonce: Buffer; ciphertext: Buffer };
  assert.ok(Buffer.isBuffer(row.ciphertext));
  assert.deepEqual(row, { nonce: Buffer.from([1, 2]), ciphertext: Buffer.from([0, 255, 0]) });
});

test('a database locked by another connection is `unavailable` once the busy timeout runs out', (t) => {
  const { db, state } = tempDb(t, 50);
  const holder = openDbFile(join(state, 'keyway.db'), { readOnly: false });
  t.after(() => holder.close());
  holder.exec('BEGIN EXCLUSIVE');
  assert.throws(() => add(db, 'v'), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && /locked by another process/.test(e.message));
  holder.exec('ROLLBACK');
  add(db, 'v');
  assert.deepEqual(names(db), ['v']);
});

test('a duplicate key is `already_exists` without the SQL or values in the message', (t) => {
  const { db } = tempDb(t);
  const volumes = new VolumesRepo(db);
  volumes.create('tls-token', {});
  assert.throws(() => volumes.create('tls-token', {}), (e: unknown) => e instanceof KeywayError && e.code === 'already_exists' && e.message === 'volume "tls-token" already exists');
  assert.throws(() => add(db, 'tls-token'), (e: unknown) => e instanceof KeywayError && e.code === 'already_exists' && !/INSERT|volumes\.name/.test(e.message));
});

test('misuse of a closed handle is an internal error, and closing twice is harmless', (t) => {
  const { db } = tempDb(t);
  const stmt = db.prepare('SELECT 1');
  db.close();
  db.close();
  assert.equal(db.open, false);
  assert.throws(() => stmt.get(), (e: unknown) => e instanceof KeywayError && e.code === 'internal');
});

test('opening a database prints no warning on any supported Node (Node 22 calls node:sqlite experimental)', () => {
  const code = `import { openDbFile } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'store', 'db.ts'))}; openDbFile(':memory:', { readOnly: false }).close(); process.emitWarning('other warnings still show');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /SQLite/);
  assert.match(r.stderr, /Warning: other warnings still show/);
});
