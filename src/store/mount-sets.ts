// Live delivery mount sets (table mount_sets): where each set lives and which process owns it, so
// that a restart after a crash can find and sweep what a dead owner left behind. No secret bytes:
// `spec` holds file names, modes and owners only.
import { nowIso, type Db } from './db.js';

export interface MountSetFileSpec {
  readonly name: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface MountSetSpec {
  readonly files: readonly MountSetFileSpec[];
  /** Start time of the owner process (clock ticks since boot), so a reused pid is not mistaken for it. */
  readonly ownerStart?: number;
  readonly [key: string]: unknown;
}

export interface MountSetRecord {
  readonly id: string;
  readonly consumer: string;
  readonly path: string;
  readonly ownerPid: number | null;
  readonly spec: MountSetSpec;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface Row {
  id: string;
  consumer: string;
  path: string;
  owner_pid: number | null;
  spec: string;
  created_at: string;
  updated_at: string;
}

function fromRow(r: Row): MountSetRecord {
  let spec: MountSetSpec;
  try {
    spec = JSON.parse(r.spec) as MountSetSpec;
  } catch {
    spec = { files: [] };
  }
  return { id: r.id, consumer: r.consumer, path: r.path, ownerPid: r.owner_pid, spec: { ...spec, files: spec.files ?? [] }, createdAt: r.created_at, updatedAt: r.updated_at };
}

export class MountSetsRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  insert(rec: { id: string; consumer: string; path: string; ownerPid: number | null; spec: MountSetSpec }): MountSetRecord {
    const at = nowIso();
    this.#db
      .prepare('INSERT INTO mount_sets (id, consumer, path, owner_pid, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .insert(`mount set ${rec.id} at ${rec.path} is already recorded`, rec.id, rec.consumer, rec.path, rec.ownerPid, JSON.stringify(rec.spec), at, at);
    return { ...rec, createdAt: at, updatedAt: at };
  }

  updateSpec(id: string, spec: MountSetSpec): void {
    this.#db.prepare('UPDATE mount_sets SET spec = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(spec), nowIso(), id);
  }

  get(id: string): MountSetRecord | undefined {
    return this.#db.prepare('SELECT * FROM mount_sets WHERE id = ?').one(fromRow, id);
  }

  list(): MountSetRecord[] {
    return this.#db.prepare('SELECT * FROM mount_sets ORDER BY created_at, id').many(fromRow);
  }

  delete(id: string): boolean {
    return this.#db.prepare('DELETE FROM mount_sets WHERE id = ?').run(id).changes > 0;
  }

  /**
   * Marks a recorded set as owned by process `pid` (started at `ownerStart`), so orphan sweeps
   * leave it alone: a restarted keyway adopts the sets of containers that are still running.
   */
  claim(id: string, pid: number, ownerStart: number | undefined): boolean {
    const sql =
      ownerStart === undefined
        ? "UPDATE mount_sets SET owner_pid = ?, spec = json_remove(spec, '$.ownerStart'), updated_at = ? WHERE id = ?"
        : "UPDATE mount_sets SET owner_pid = ?, spec = json_set(spec, '$.ownerStart', ?), updated_at = ? WHERE id = ?";
    const args = ownerStart === undefined ? [pid, nowIso(), id] : [pid, ownerStart, nowIso(), id];
    return this.#db.prepare(sql).run(...args).changes > 0;
  }
}
