// Opens keyway's SQLite database: state dir 0700, db file 0600 (a looser db file is refused, since
// the audit log and references are private even though values are not there), WAL, busy timeout
// for concurrent CLI processes, migrations.
import { chmodSync, closeSync, lstatSync, openSync, constants as fsc } from 'node:fs';
import { join } from 'node:path';
import { KeywayError, toKeywayError } from '../core/errors.js';
import { ensureOwnDir } from '../core/safe-dir.js';
import { MIGRATIONS } from './migrations.js';
import { Db } from './sqlite.js';
import { sqliteError } from './sqlite-errors.js';

export type { Db } from './sqlite.js';

export const DB_FILE = 'keyway.db';
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Creates the state dir 0700 if missing; refuses one that is a symlink, not a dir, someone else's,
 * writable by others, or below a directory someone else could change (see core/safe-dir.ts).
 */
export function ensurePrivateDir(dir: string, what = 'state dir'): void {
  try {
    ensureOwnDir(dir, what);
  } catch (e) {
    // ensureOwnDir's own refusals pass unchanged; a raw fs error (chmod on a read-only mount) gets a context.
    throw toKeywayError(e, `cannot prepare ${what} ${dir}`);
  }
}

function checkDbFile(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    // Create it ourselves with 0600 so SQLite never creates it with the umask's mode.
    try {
      closeSync(openSync(path, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY | fsc.O_NOFOLLOW, 0o600));
    } catch (e) {
      throw toKeywayError(e, `cannot create database ${path}`);
    }
    return;
  }
  if (!st.isFile()) throw new KeywayError('failed_precondition', `database ${path} is not a regular file`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KeywayError('failed_precondition', `database ${path} has mode 0${mode.toString(8)}; keyway requires 0600 (run: chmod 600 ${path})`);
  }
}

export function openDb(stateDir: string, busyTimeoutMs = BUSY_TIMEOUT_MS): Db {
  ensurePrivateDir(stateDir);
  const path = join(stateDir, DB_FILE);
  checkDbFile(path);
  // Db's constructor already reports a failure as "cannot open database PATH: reason".
  const db = new Db(path);
  try {
    // First, so that every later statement (journal mode included) waits for a busy writer.
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
  } catch (e) {
    db.close();
    throw sqliteError(e, `cannot open database ${path}`);
  }
  try {
    migrate(db);
  } catch (e) {
    db.close();
    throw sqliteError(e, `cannot migrate database ${path}`);
  }
  for (const suffix of ['-wal', '-shm']) {
    try {
      chmodSync(path + suffix, 0o600);
    } catch {
      // not created yet
    }
  }
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new KeywayError('failed_precondition', `database schema version ${current} is newer than this keyway (${latest}); upgrade keyway`);
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      // Re-check inside the write lock: another process may have migrated meanwhile.
      const now = db.pragma('user_version', { simple: true }) as number;
      if (now >= m.version) return;
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/**
 * Opens a database file as it is: no permission checks, pragmas or migrations. For tools and
 * tests that inspect a live state dir (read-only by default, so they cannot disturb it).
 */
export function openDbFile(path: string, opts: { readOnly?: boolean } = { readOnly: true }): Db {
  return new Db(path, opts);
}

/** Current time as stored in the db (RFC 3339, UTC, ms). */
export function nowIso(): string {
  return new Date().toISOString();
}
