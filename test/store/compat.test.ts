// A state dir written by keyway 0.1.0 (SQLite through better-sqlite3) opens unchanged on the
// node:sqlite store: same file format, same schema version, values decrypt with the same key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../src/store/audit.js';
import { BlobsRepo } from '../../src/store/blobs.js';
import { openDb } from '../../src/store/db.js';
import { SecretsRepo } from '../../src/store/secrets.js';
import { LocalProvider } from '../../src/providers/local/index.js';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'v0.1.0');

function stateFromFixture(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-compat-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const state = join(dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  for (const f of ['keyway.db', 'local.key']) {
    copyFileSync(join(FIXTURE, f), join(state, f));
    chmodSync(join(state, f), 0o600);
  }
  return state;
}

test('a database written by keyway 0.1.0 opens with its records, labels and audit log', (t) => {
  const state = stateFromFixture(t);
  const db = openDb(state);
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const secrets = new SecretsRepo(db);
  assert.deepEqual(
    secrets.list().map((s) => [s.id, s.name, s.ref, s.blobId, s.labels, s.mode]),
    [
      ['aceb51ec2e73f645916f260d2', 'api', 'ref+vault://kv/shop#/token', null, { tier: 'web' }, null],
      ['533ebbfecc81c6be17f5758c3', 'db', null, '533ebbfecc81c6be17f5758c3', { app: 'shop' }, 0o440],
    ],
  );
  const audit = new AuditLog(db).query();
  assert.deepEqual(
    audit.map((r) => [r.action, r.outcome, r.subject]),
    [
      ['create', 'ok', 'db'],
      ['create', 'ok', 'api'],
      ['resolve', 'ok', 'db'],
    ],
  );
});

test('a value stored by keyway 0.1.0 decrypts with its key file, and the old database takes new writes', async (t) => {
  const state = stateFromFixture(t);
  const db = openDb(state);
  t.after(() => db.close());
  const blobs = new BlobsRepo(db);
  assert.ok(Buffer.isBuffer(blobs.get('533ebbfecc81c6be17f5758c3')?.ciphertext), 'BLOB columns read back as Buffers');
  const local = new LocalProvider('local', blobs, join(state, 'local.key'));
  const signal = new AbortController().signal;
  const value = await local.lookup({ path: '533ebbfecc81c6be17f5758c3', options: {}, signal });
  assert.equal(value.expose().toString(), 'fixture-db-password');
  const secrets = new SecretsRepo(db);
  secrets.put({ ...(secrets.get('api') ?? assert.fail('api missing')), id: 'b'.repeat(25), name: 'api2' }, false);
  db.close();
  const again = openDb(state);
  assert.equal(new SecretsRepo(again).get('api2')?.ref, 'ref+vault://kv/shop#/token');
  again.close();
});
