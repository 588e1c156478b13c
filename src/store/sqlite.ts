// A small synchronous SQLite handle over node:sqlite (built into Node >= 22.13, so no native addon
// to compile). It offers what the repos use — prepare/run/get/all, pragma, exec and transactions
// that nest through savepoints — and throws only KeywayErrors (sqlite-errors.ts) that name the
// database file and what the statement was doing (`cannot write to volumes in PATH: ...`).
import type * as NodeSqlite from 'node:sqlite';
import type { DatabaseSync, StatementSync, SQLInputValue } from 'node:sqlite';
import { KeywayError } from '../core/errors.js';
import { isKeyConflict, sqliteError } from './sqlite-errors.js';

type SqliteModule = typeof NodeSqlite;
type Param = unknown;

let sqlite: SqliteModule | undefined;

/**
 * Loaded on first open, not imported statically: the CLI's Node-version check must run before
 * anything that an older Node cannot link, and commands that never touch the store skip it.
 */
function loadSqlite(): SqliteModule {
  if (sqlite) return sqlite;
  // Node 22 flags the module experimental on load; the API keyway uses is stable across 22.13+ and
  // 24, so that one warning is not shown to users. Every other warning still is.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emit as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  });
  try {
    sqlite = process.getBuiltinModule('node:sqlite');
  } finally {
    process.emitWarning = emit;
  }
  return sqlite;
}

/** BLOBs come back as Uint8Array and rows with a null prototype; callers expect Buffers and plain objects. */
function toRow(raw: unknown): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  const row: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    row[k] = v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
  }
  return row;
}

export interface RunResult {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

/**
 * What a statement was doing, for the message of its error: `read secrets`, `write to volumes`.
 * Built from keyway's own SQL (table names only), only when a statement fails.
 */
function statementAction(sql: string): string {
  const text = sql.trim().replace(/\s+/g, ' ');
  const table = /^(?:SELECT .*? FROM|INSERT (?:OR \w+ )?INTO|UPDATE|DELETE FROM|PRAGMA) (\w+)/i.exec(text)?.[1];
  const verb = (/^\w+/.exec(text)?.[0] ?? '').toUpperCase();
  switch (verb) {
    case 'SELECT':
      return table ? `read ${table}` : 'read';
    case 'INSERT':
      return `write to ${table ?? 'a table'}`;
    case 'UPDATE':
      return `update ${table ?? 'a table'}`;
    case 'DELETE':
      return `delete from ${table ?? 'a table'}`;
    case 'PRAGMA':
      return `run PRAGMA ${table ?? ''}`.trimEnd();
    case 'BEGIN':
    case 'SAVEPOINT':
      return 'start a transaction';
    case 'COMMIT':
    case 'RELEASE':
      return 'commit a transaction';
    default:
      return `run ${verb || 'a statement'}`;
  }
}

export class Statement {
  readonly #stmt: StatementSync;
  readonly #sql: string;
  readonly #file: string;

  constructor(stmt: StatementSync, sql: string, file: string) {
    this.#stmt = stmt;
    this.#sql = sql;
    this.#file = file;
  }

  #error(e: unknown): KeywayError {
    return sqliteError(e, `cannot ${statementAction(this.#sql)} in ${this.#file}`);
  }

  run(...params: Param[]): RunResult {
    try {
      const r = this.#stmt.run(...(params as SQLInputValue[]));
      return { changes: Number(r.changes), lastInsertRowid: r.lastInsertRowid };
    } catch (e) {
      throw this.#error(e);
    }
  }

  /** `run` for an INSERT of a new row: a PRIMARY KEY or UNIQUE conflict is already_exists with `conflict` as its message. */
  insert(conflict: string, ...params: Param[]): void {
    try {
      this.run(...params);
    } catch (e) {
      throw isKeyConflict(e) ? new KeywayError('already_exists', conflict, { cause: e }) : e;
    }
  }

  get(...params: Param[]): unknown {
    try {
      return toRow(this.#stmt.get(...(params as SQLInputValue[])));
    } catch (e) {
      throw this.#error(e);
    }
  }

  all(...params: Param[]): unknown[] {
    try {
      return this.#stmt.all(...(params as SQLInputValue[])).map(toRow);
    } catch (e) {
      throw this.#error(e);
    }
  }

  /** The first row as `from` maps it, or undefined when there is none. */
  one<R, T>(from: (row: R) => T, ...params: Param[]): T | undefined {
    const row = this.get(...params) as R | undefined;
    return row === undefined ? undefined : from(row);
  }

  /** Every row as `from` maps it. */
  many<R, T>(from: (row: R) => T, ...params: Param[]): T[] {
    return (this.all(...params) as R[]).map(from);
  }
}

export type Transaction<T> = (() => T) & { immediate: () => T };

export class Db {
  readonly #db: DatabaseSync;
  /** The database file, named in every error message. */
  readonly path: string;
  #open = true;
  #depth = 0;

  constructor(path: string, opts: { readOnly?: boolean } = {}) {
    this.path = path;
    try {
      this.#db = new (loadSqlite().DatabaseSync)(path, { readOnly: opts.readOnly ?? false });
    } catch (e) {
      throw sqliteError(e, `cannot open database ${path}`);
    }
  }

  get open(): boolean {
    return this.#open;
  }

  prepare(sql: string): Statement {
    try {
      return new Statement(this.#db.prepare(sql), sql, this.path);
    } catch (e) {
      throw sqliteError(e, `cannot ${statementAction(sql)} in ${this.path}`);
    }
  }

  exec(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (e) {
      throw sqliteError(e, `cannot ${statementAction(sql)} in ${this.path}`);
    }
  }

  /** `PRAGMA <source>`: the rows, or with `simple` the first column of the first row. */
  pragma(source: string, opts: { simple?: boolean } = {}): unknown {
    const rows = this.prepare(`PRAGMA ${source}`).all() as Record<string, unknown>[];
    if (!opts.simple) return rows;
    const first = rows[0];
    return first === undefined ? undefined : Object.values(first)[0];
  }

  /**
   * Wraps `fn` in a transaction: calling the result runs BEGIN (or `.immediate()`, BEGIN IMMEDIATE,
   * which takes the write lock up front) and commits, or rolls back if `fn` throws. Inside another
   * transaction it runs in a savepoint, so an inner failure undoes only the inner work.
   */
  transaction<T>(fn: () => T): Transaction<T> {
    const run = (begin: string): T => {
      const nested = this.#depth > 0;
      const sp = `kw_sp${this.#depth}`;
      this.exec(nested ? `SAVEPOINT ${sp}` : begin);
      this.#depth++;
      let result: T;
      try {
        result = fn();
      } catch (e) {
        this.#depth--;
        // The original error is what the caller needs; a failing rollback (SQLite may already have
        // rolled back, e.g. on a full disk) must not replace it.
        this.#quietly(nested ? `ROLLBACK TO ${sp}; RELEASE ${sp}` : 'ROLLBACK');
        throw e;
      }
      this.#depth--;
      try {
        this.exec(nested ? `RELEASE ${sp}` : 'COMMIT');
      } catch (e) {
        this.#quietly(nested ? `ROLLBACK TO ${sp}; RELEASE ${sp}` : 'ROLLBACK');
        throw e;
      }
      return result;
    };
    return Object.assign(() => run('BEGIN'), { immediate: () => run('BEGIN IMMEDIATE') });
  }

  #quietly(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch {
      // nothing left to undo
    }
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.#db.close();
    } catch (e) {
      throw sqliteError(e, `cannot close database ${this.path}`);
    }
  }
}
