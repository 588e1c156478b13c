// Docker/Podman volumes (tables volumes and volume_mounts). An explicit volume is its name plus the
// `-o` options it was created with (strings, re-validated on read); named secrets are implicit
// volumes and have no row here. volume_mounts records each live mount (volume, mount id) and the
// delivery mount set behind it, so a restarted keyway can release what an earlier process mounted.
import { nowIso, type Db } from './db.js';

export interface VolumeRecord {
  readonly name: string;
  readonly opts: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

export interface VolumeMountRecord {
  readonly volume: string;
  readonly mountId: string;
  readonly mountSetId: string;
  readonly refcount: number;
  readonly createdAt: string;
}

interface VolumeRow {
  name: string;
  opts: string;
  created_at: string;
}

// volume_mounts columns under their record names, so a row is the record.
const MOUNT_COLUMNS = 'volume, mount_id AS mountId, mount_set_id AS mountSetId, refcount, created_at AS createdAt';

function volumeFromRow(r: VolumeRow): VolumeRecord {
  let opts: Record<string, string> = {};
  try {
    const parsed = JSON.parse(r.opts) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') opts[k] = v;
    }
  } catch {
    opts = {};
  }
  return { name: r.name, opts, createdAt: r.created_at };
}

export class VolumesRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  create(name: string, opts: Readonly<Record<string, string>>): VolumeRecord {
    const at = nowIso();
    this.#db.prepare('INSERT INTO volumes (name, opts, created_at) VALUES (?, ?, ?)').insert(`volume ${JSON.stringify(name)} already exists`, name, JSON.stringify(opts), at);
    return { name, opts: { ...opts }, createdAt: at };
  }

  get(name: string): VolumeRecord | undefined {
    return this.#db.prepare('SELECT * FROM volumes WHERE name = ?').one(volumeFromRow, name);
  }

  list(): VolumeRecord[] {
    return this.#db.prepare('SELECT * FROM volumes ORDER BY name').many(volumeFromRow);
  }

  delete(name: string): boolean {
    return this.#db.prepare('DELETE FROM volumes WHERE name = ?').run(name).changes > 0;
  }

  getMount(volume: string, mountId: string): VolumeMountRecord | undefined {
    return this.#db.prepare(`SELECT ${MOUNT_COLUMNS} FROM volume_mounts WHERE volume = ? AND mount_id = ?`).get(volume, mountId) as VolumeMountRecord | undefined;
  }

  listMounts(volume?: string): VolumeMountRecord[] {
    return volume === undefined
      ? (this.#db.prepare(`SELECT ${MOUNT_COLUMNS} FROM volume_mounts ORDER BY created_at, volume, mount_id`).all() as VolumeMountRecord[])
      : (this.#db.prepare(`SELECT ${MOUNT_COLUMNS} FROM volume_mounts WHERE volume = ? ORDER BY created_at, mount_id`).all(volume) as VolumeMountRecord[]);
  }

  insertMount(volume: string, mountId: string, mountSetId: string): VolumeMountRecord {
    const at = nowIso();
    this.#db.prepare('INSERT INTO volume_mounts (volume, mount_id, mount_set_id, refcount, created_at) VALUES (?, ?, ?, 1, ?)').run(volume, mountId, mountSetId, at);
    return { volume, mountId, mountSetId, refcount: 1, createdAt: at };
  }

  setRefcount(volume: string, mountId: string, refcount: number): void {
    this.#db.prepare('UPDATE volume_mounts SET refcount = ? WHERE volume = ? AND mount_id = ?').run(refcount, volume, mountId);
  }

  deleteMount(volume: string, mountId: string): boolean {
    return this.#db.prepare('DELETE FROM volume_mounts WHERE volume = ? AND mount_id = ?').run(volume, mountId).changes > 0;
  }
}
