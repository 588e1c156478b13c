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
 */
const FLUSH_MS = 50;
const FLUSH_ROWS = 512;

export class AuditLog {
  readonly #db: Db;
  readonly #queue: unknown[][] = [];
  #scheduled = false;

  constructor(db: Db) {
    this.#db = db;
  }

  record(e: AuditEntry): void {
    this.#queue.push([nowIso(), e.action, e.frontend, e.consumer ?? null, e.subject ?? null, e.provider ?? null, e.outcome, e.code ?? null, e.cache ?? null, e.detail ?? null]);
    if (this.#queue.length >= FLUSH_ROWS) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.flush(), FLUSH_MS).unref();
    }
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#queue.length === 0 || !this.#db.open) return;
    const rows = this.#queue.splice(0);
    const insert = this.#db.prepare('INSERT INTO audit (at, action, frontend, consumer, subject, provider, outcome, code, cache, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    this.#db.transaction(() => {
      for (const r of rows) insert.run(...r);
    })();
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
