// A fresh database in its own temp state dir, closed and removed after the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB_FILE, openDb, type Db } from '../../src/store/db.js';

export interface TempDb {
  readonly db: Db;
  /** The state dir holding the database. */
  readonly state: string;
  /** The database file. */
  readonly file: string;
}

export function tempDb(t: { after: (fn: () => void) => void }, busyTimeoutMs?: number): TempDb {
  const dir = mkdtempSync(join(tmpdir(), 'kw-store-'));
  const state = join(dir, 'state');
  const db = openDb(state, busyTimeoutMs);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db, state, file: join(state, DB_FILE) };
}
