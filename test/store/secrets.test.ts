// NAME-or-ID lookups: names match exactly first; an id prefix counts only from 12 hex digits on
// and only when it matches exactly one secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { MIN_ID_PREFIX, SecretsRepo, type SecretRecord } from '../../src/store/secrets.js';

function repo(t: { after: (fn: () => void) => void }): SecretsRepo {
  const dir = mkdtempSync(join(tmpdir(), 'kw-secrets-'));
  const db = openDb(join(dir, 'state'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return new SecretsRepo(db);
}

function record(name: string, id: string): SecretRecord {
  return { id, name, ref: 'ref+vault://kv/x', blobId: null, labels: {}, mode: null, uid: null, gid: null, createdAt: '2026-11-25T00:00:00Z', updatedAt: '2026-11-25T00:00:00Z' };
}

test('a short id prefix never names a secret, a 12-digit unique prefix and the full id do', (t) => {
  const r = repo(t);
  r.put(record('db', '46d0c1a2b3c4d5e6f7a8b9c0d'), false);
  assert.equal(r.find('46d'), undefined);
  assert.equal(r.find('46d0c1a2b3c'), undefined, '11 digits are not enough');
  assert.equal(r.find('46d0c1a2b3c4'.slice(0, MIN_ID_PREFIX))?.name, 'db');
  assert.equal(r.find('46d0c1a2b3c4d5e6f7a8b9c0d')?.name, 'db');
  assert.equal(r.find('46D0C1A2B3C4'), undefined, 'ids are lower-case hex');
});

test('an exact name wins over an id prefix, and an ambiguous prefix is refused', (t) => {
  const r = repo(t);
  r.put(record('first', 'aaaaaaaaaaaa0000000000001'), false);
  r.put(record('second', 'aaaaaaaaaaaa0000000000002'), false);
  // A secret whose name looks like the other's id prefix.
  r.put(record('aaaaaaaaaaaa000', 'bbbbbbbbbbbb0000000000003'), false);
  assert.equal(r.find('aaaaaaaaaaaa000')?.name, 'aaaaaaaaaaaa000');
  assert.throws(() => r.find('aaaaaaaaaaaa'), (e: unknown) => (e as { code?: string }).code === 'invalid_argument' && /matches more than one secret/.test(String(e)));
  assert.equal(r.find('aaaaaaaaaaaa0000000000002')?.name, 'second');
});
