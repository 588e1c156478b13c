// node:sqlite errors carry SQLite's extended result code as a number (`errcode`); this is the one
// place they become KeywayErrors. The library's message can quote SQL or values, so it is kept
// only as `cause`, never in the text the user sees. Nothing else in keyway inspects SQLite errors:
// the store throws only KeywayErrors, whose messages say what failed and where.
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
const CONSTRAINT_PRIMARYKEY = CONSTRAINT | (6 << 8);
const CONSTRAINT_UNIQUE = CONSTRAINT | (8 << 8);

type Reason = readonly [ErrorCode, string];

const LOCKED_BY_OTHER: Reason = ['unavailable', 'the database is locked by another process; try again'];
const NOT_WRITABLE: Reason = ['permission_denied', 'the database is read-only or not writable'];
const CORRUPT_FILE: Reason = ['failed_precondition', 'the database file is corrupt or not a keyway database'];
const KEY_TAKEN: Reason = ['already_exists', 'a record with that key already exists'];

// Write-side I/O errors on the db, its WAL or shared-memory file are, in practice, a full disk.
const BY_EXTENDED = new Map<number, Reason>([
  [IOERR | (3 << 8), ['too_large', 'the state dir is full or not writable (SQLITE_IOERR_WRITE)']],
  [IOERR | (6 << 8), ['too_large', 'the state dir is full or not writable (SQLITE_IOERR_TRUNCATE)']],
  [IOERR | (19 << 8), ['too_large', 'the state dir is full or not writable (SQLITE_IOERR_SHMSIZE)']],
  [CONSTRAINT_PRIMARYKEY, KEY_TAKEN],
  [CONSTRAINT_UNIQUE, KEY_TAKEN],
]);

const BY_PRIMARY = new Map<number, Reason>([
  [BUSY, LOCKED_BY_OTHER],
  [LOCKED, LOCKED_BY_OTHER],
  [FULL, ['too_large', 'the state dir is full (no space left for the database)']],
  [READONLY, NOT_WRITABLE],
  [PERM, NOT_WRITABLE],
  [AUTH, NOT_WRITABLE],
  [CORRUPT, CORRUPT_FILE],
  [NOTADB, CORRUPT_FILE],
]);

function describe(errcode: number): Reason {
  const known = BY_EXTENDED.get(errcode) ?? BY_PRIMARY.get(errcode & 0xff);
  if (known) return known;
  const primary = errcode & 0xff;
  if (primary === IOERR || primary === CANTOPEN) return ['failed_precondition', `the database cannot be read or written (SQLite error ${errcode})`];
  // CHECK and NOT NULL rules are keyway's own invariants: breaking one is a bug, not a user error.
  if (primary === CONSTRAINT) return ['internal', `a record breaks a rule of the database schema (SQLite error ${errcode})`];
  return ['internal', `database error (SQLite error ${errcode})`];
}

// The reason of each error made here, without its context, so that an outer context (openDb's
// "cannot open database PATH") replaces the inner one (the failing statement) instead of stacking.
const reasons = new WeakMap<KeywayError, string>();

function made(code: ErrorCode, context: string | undefined, reason: string, cause: unknown): KeywayError {
  const err = new KeywayError(code, context ? `${context}: ${reason}` : reason, { cause });
  reasons.set(err, reason);
  return err;
}

/**
 * Turns anything a node:sqlite call threw into a KeywayError whose message is `<context>: <reason>`.
 * Other KeywayErrors pass through (prefixed with `context` when given).
 */
export function sqliteError(e: unknown, context?: string): KeywayError {
  if (e instanceof KeywayError) {
    const reason = reasons.get(e);
    if (reason !== undefined) return context ? made(e.code, context, reason, e.cause) : e;
    return context ? new KeywayError(e.code, `${context}: ${e.message}`, { cause: e.cause ?? e }) : e;
  }
  const errcode = (e as { errcode?: unknown } | undefined)?.errcode;
  if (typeof errcode === 'number') {
    const [code, text] = describe(errcode);
    return made(code, context, text, e);
  }
  // Misuse (a closed database, a bad bind value) has no SQLite code: a bug, not a user error.
  return made('internal', context, 'unexpected database error', e);
}

/** True when `e` (as thrown by sqlite.ts) is a PRIMARY KEY or UNIQUE violation: the row already exists. */
export function isKeyConflict(e: unknown): boolean {
  const errcode = (e instanceof KeywayError ? (e.cause as { errcode?: unknown } | undefined) : undefined)?.errcode;
  return errcode === CONSTRAINT_PRIMARYKEY || errcode === CONSTRAINT_UNIQUE;
}
