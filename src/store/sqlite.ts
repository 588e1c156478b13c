// A small synchronous SQLite handle over node:sqlite (built into Node >= 22.13, so no native addon
// to compile). It offers what the repos use — prepare/run/get/all, pragma, exec and transactions
// that nest through savepoints — and throws only KeywayErrors (sqlite-errors.ts).
import type * as NodeSqlite from 'node:sqlite';
import type { DatabaseSync, StatementSync, SQLInputValue } from 'node:sqlite';
import { sqliteError } from './sqlite-errors.js';

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

export class Statement {
  readonly #stmt: StatementSync;

  constructor(stmt: StatementSync) {
    this.#stmt = stmt;
  }

  run(...params: Param[]): RunResult {
    try {
      const r = this.#stmt.run(...(params as SQLInputValue[]));
      return { changes: Number(r.changes), lastInsertRowid: r.lastInsertRowid };
    } catch (e) {
      throw sqliteError(e);
    }
  }

  get(...params: Param[]): unknown {
    try {
      return toRow(this.#stmt.get(...(params as SQLInputValue[])));
    } catch (e) {
      throw sqliteError(e);
    }
  }

  all(...params: Param[]): unknown[] {
    try {
      return this.#stmt.all(...(params as SQLInputValue[])).map(toRow);
    } catch (e) {
      throw sqliteError(e);
    }
  }
}

export type Transaction<T> = (() => T) & { immediate: () => T };

export class Db {
  readonly #db: DatabaseSync;
  #open = true;
  #depth = 0;

  constructor(path: string, opts: { readOnly?: boolean } = {}) {
    try {
      this.#db = new (loadSqlite().DatabaseSync)(path, { readOnly: opts.readOnly ?? false });
    } catch (e) {
      throw sqliteError(e);
    }
  }

  get open(): boolean {
    return this.#open;
  }

  prepare(sql: string): Statement {
    try {
      return new Statement(this.#db.prepare(sql));
    } catch (e) {
      throw sqliteError(e);
    }
  }

  exec(sql: string): void {
    try {
      this.#db.exec(sql);
    } catch (e) {
      throw sqliteError(e);
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
      throw sqliteError(e);
    }
  }
}
