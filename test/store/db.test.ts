import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { openDb } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'kw-db-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('opening creates the state dir 0700 and the database 0600 in WAL mode', (t) => {
  const state = join(tmp(t), 'state');
  const db = openDb(state);
  assert.equal(statSync(state).mode & 0o777, 0o700);
  assert.equal(statSync(join(state, 'keyway.db')).mode & 0o777, 0o600);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.at(-1)?.version);
  db.close();
});

test('migrations are applied once: reopening keeps data and version', (t) => {
  const state = join(tmp(t), 'state');
  const db = openDb(state);
  db.prepare("INSERT INTO volumes (name, created_at) VALUES ('v', 'now')").run();
  db.close();
  const again = openDb(state);
  assert.equal((again.prepare('SELECT count(*) AS n FROM volumes').get() as { n: number }).n, 1);
  again.close();
});

test('a database file with mode 0644 is refused with a fix in the message', (t) => {
  const state = join(tmp(t), 'state');
  openDb(state).close();
  chmodSync(join(state, 'keyway.db'), 0o644);
  assert.throws(() => openDb(state), (e: unknown) => e instanceof KeywayError && e.code === 'failed_precondition' && /mode 0644.*chmod 600/.test(e.message));
});

test('a group-readable state dir owned by us is tightened to 0700', (t) => {
  const state = join(tmp(t), 'state');
  openDb(state).close();
  chmodSync(state, 0o755);
  openDb(state).close();
  assert.equal(statSync(state).mode & 0o777, 0o700);
});

test('a database that is not SQLite gives a clear error and is left untouched', (t) => {
  const state = join(tmp(t), 'state');
  openDb(state).close();
  rmSync(join(state, 'keyway.db'));
  writeFileSync(join(state, 'keyway.db'), 'not a database at all'.repeat(100), { mode: 0o600 });
  assert.throws(() => openDb(state), (e: unknown) => e instanceof KeywayError && e.code === 'failed_precondition' && /cannot open database .*: the database file is corrupt or not a keyway database/.test(e.message));
});
