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

export class AuditLog {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  record(e: AuditEntry): void {
    this.#db
      .prepare('INSERT INTO audit (at, action, frontend, consumer, subject, provider, outcome, code, cache, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(nowIso(), e.action, e.frontend, e.consumer ?? null, e.subject ?? null, e.provider ?? null, e.outcome, e.code ?? null, e.cache ?? null, e.detail ?? null);
  }

  query(q: AuditQuery = {}): AuditRow[] {
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
    const cutoff = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
    return this.#db.prepare('DELETE FROM audit WHERE at < ?').run(cutoff).changes;
  }
}
