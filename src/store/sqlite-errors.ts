// node:sqlite errors carry SQLite's extended result code as a number (`errcode`); this is the one
// place they become KeywayErrors. The library's message can quote SQL or values, so it is kept
// only as `cause`, never in the text the user sees.
import { KeywayError, type ErrorCode } from '../core/errors.js';

// Primary result codes (the low byte of an extended code), from sqlite3.h.
const PERM = 3;
const BUSY = 5;
const LOCKED = 6;
const READONLY = 8;
const IOERR = 10;
const CORRUPT = 11;
const FULL = 13;
const CANTOPEN = 14;
const CONSTRAINT = 19;
const AUTH = 23;
const NOTADB = 26;
// Write-side I/O errors on the db, its WAL or shared-memory file are, in practice, a full disk.
const IOERR_FULLISH = new Map([
  [IOERR | (3 << 8), 'SQLITE_IOERR_WRITE'],
  [IOERR | (6 << 8), 'SQLITE_IOERR_TRUNCATE'],
  [IOERR | (19 << 8), 'SQLITE_IOERR_SHMSIZE'],
]);

function describe(errcode: number): [ErrorCode, string] {
  const fullish = IOERR_FULLISH.get(errcode);
  if (fullish) return ['too_large', `the state dir is full or not writable (${fullish})`];
  switch (errcode & 0xff) {
    case BUSY:
    case LOCKED:
      return ['unavailable', 'the database is locked by another process; try again'];
    case FULL:
      return ['too_large', 'the state dir is full (no space left for the database)'];
    case READONLY:
    case PERM:
    case AUTH:
      return ['permission_denied', 'the database is read-only or not writable'];
    case CORRUPT:
    case NOTADB:
      return ['failed_precondition', 'the database file is corrupt or not a keyway database'];
    case CONSTRAINT:
      return ['already_exists', 'a record with that key already exists'];
    case IOERR:
    case CANTOPEN:
      return ['failed_precondition', `the database cannot be read or written (SQLite error ${errcode})`];
    default:
      return ['internal', `database error (SQLite error ${errcode})`];
  }
}

/** Turns anything a node:sqlite call threw into a KeywayError; KeywayErrors pass through. */
export function sqliteError(e: unknown, context?: string): KeywayError {
  const prefix = context ? `${context}: ` : '';
  if (e instanceof KeywayError) return context ? new KeywayError(e.code, prefix + e.message, { cause: e.cause ?? e }) : e;
  const errcode = (e as { errcode?: unknown } | undefined)?.errcode;
  if (typeof errcode === 'number') {
    const [code, text] = describe(errcode);
    return new KeywayError(code, prefix + text, { cause: e });
  }
  // Misuse (a closed database, a bad bind value) has no SQLite code: a bug, not a user error.
  return new KeywayError('internal', `${prefix}unexpected database error`, { cause: e });
}

const CONSTRAINT_PRIMARYKEY = CONSTRAINT | (6 << 8);
const CONSTRAINT_UNIQUE = CONSTRAINT | (8 << 8);

/** True when `e` (as thrown by sqlite.ts) is a PRIMARY KEY or UNIQUE violation: the row already exists. */
export function isKeyConflict(e: unknown): boolean {
  const errcode = (e instanceof KeywayError ? (e.cause as { errcode?: unknown } | undefined) : undefined)?.errcode;
  return errcode === CONSTRAINT_PRIMARYKEY || errcode === CONSTRAINT_UNIQUE;
}
