// The audit log: who did what, when, with what outcome. Never values.
import type { Db } from './db.js';
import { nowIso } from './db.js';

export interface AuditEntry {
  readonly action: string; // resolve | store | delete | create | rm | plugin.launch | mount | unmount ...
  readonly frontend: string;
  readonly consumer?: string;
  readonly subject?: string; // secret name or log-safe reference description
  readonly provider?: string;
  readonly outcome: 'ok' | 'error' | 'stale';
  readonly code?: string;
  readonly cache?: 'hit' | 'miss' | 'stale';
  readonly detail?: string;
}

export interface AuditRow extends AuditEntry {
  readonly seq: number;
  readonly at: string;
}

export interface AuditQuery {
  readonly since?: string;
  readonly subject?: string;
  readonly limit?: number;
}

/**
 * Entries are queued and written in one transaction at most every FLUSH_MS (or at FLUSH_ROWS): a
 * busy daemon pays one SQLite commit per batch instead of one per read. `flush()` (called by query
 * and on close) writes them at once; a crash can lose at most the last FLUSH_MS of entries.
 * A write that fails (the database locked past its busy timeout, a read-only disk) keeps the rows
 * queued and is retried every RETRY_MS; a timer's failure goes to `onError` and never crashes the
 * daemon. Beyond MAX_QUEUED rows the oldest are dropped and counted, so a database that stays
 * unwritable cannot grow memory without bound.
 */
const FLUSH_MS = 50;
const FLUSH_ROWS = 512;
const RETRY_MS = 1_000;
export const MAX_QUEUED = 10_000;

export interface AuditLogOptions {
  /** Told about a background write that failed (the rows stay queued) or rows dropped. */
  readonly onError?: (err: unknown, queued: number, dropped: number) => void;
}

export class AuditLog {
  readonly #db: Db;
  readonly #onError: NonNullable<AuditLogOptions['onError']>;
  #queue: unknown[][] = [];
  #scheduled = false;
  #dropped = 0;
  /** The last background write failed: wait for the retry timer instead of writing per record. */
  #retrying = false;

  constructor(db: Db, opts: AuditLogOptions = {}) {
    this.#db = db;
    this.#onError = opts.onError ?? (() => undefined);
  }

  /** Rows dropped because the queue was full while writes kept failing. */
  get dropped(): number {
    return this.#dropped;
  }

  record(e: AuditEntry): void {
    this.#queue.push([nowIso(), e.action, e.frontend, e.consumer ?? null, e.subject ?? null, e.provider ?? null, e.outcome, e.code ?? null, e.cache ?? null, e.detail ?? null]);
    if (this.#queue.length > MAX_QUEUED) {
      const over = this.#queue.length - MAX_QUEUED;
      this.#queue.splice(0, over);
      this.#dropped += over;
    }
    if (this.#queue.length >= FLUSH_ROWS && !this.#retrying) this.#flushInBackground();
    else this.#schedule(FLUSH_MS);
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0 || !this.#db.open) return;
    const rows = this.#queue;
    this.#queue = [];
    const insert = this.#db.prepare('INSERT INTO audit (at, action, frontend, consumer, subject, provider, outcome, code, cache, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    try {
      this.#db.transaction(() => {
        for (const r of rows) insert.run(...r);
      })();
    } catch (e) {
      // Nothing was committed: put the rows back ahead of any recorded meanwhile.
      this.#queue = rows.concat(this.#queue);
      throw e;
    }
  }

  #schedule(ms: number): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setTimeout(() => this.#flushInBackground(), ms).unref();
  }

  #flushInBackground(): void {
    try {
      this.flush();
      this.#retrying = false;
    } catch (e) {
      this.#retrying = true;
      this.#onError(e, this.#queue.length, this.#dropped);
      this.#schedule(RETRY_MS);
    }
  }

  query(q: AuditQuery = {}): AuditRow[] {
    this.flush();
    const rows = this.#db
      .prepare('SELECT * FROM audit WHERE (@since IS NULL OR at >= @since) AND (@subject IS NULL OR subject = @subject) ORDER BY seq DESC LIMIT @limit')
      .all({ since: q.since ?? null, subject: q.subject ?? null, limit: q.limit ?? 1000 }) as Record<string, unknown>[];
    return rows.reverse().map((r) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) if (v !== null) out[k] = v;
      return out as unknown as AuditRow;
    });
  }

  prune(retentionDays: number): number {
    if (retentionDays <= 0) return 0;
    this.flush();
    const cutoff = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
    return this.#db.prepare('DELETE FROM audit WHERE at < ?').run(cutoff).changes;
  }
}
