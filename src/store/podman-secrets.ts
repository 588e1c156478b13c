// Secrets stored through Podman's shell driver (or keyway's podman-plugin), keyed by Podman's own
// id. Podman keeps the name, labels and timestamps in its secrets.json; keyway keeps only what backs
// the id: a reference, or the id of a local ciphertext blob.
import type { Db } from './db.js';

export interface PodmanSecretRecord {
  readonly id: string;
  readonly ref: string | null;
  readonly blobId: string | null;
  readonly createdAt: string;
}

// Columns under their record names, so a row is the record.
const COLUMNS = 'id, ref, blob_id AS blobId, created_at AS createdAt';

export class PodmanSecretsRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(id: string): PodmanSecretRecord | undefined {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM podman_secrets WHERE id = ?`).get(id) as PodmanSecretRecord | undefined;
  }

  /** Inserts a new record; an id that already exists is refused and left as it was. */
  insert(rec: PodmanSecretRecord): void {
    this.#db
      .prepare('INSERT INTO podman_secrets (id, ref, blob_id, created_at) VALUES (?, ?, ?, ?)')
      .insert(`podman secret ${rec.id} already exists`, rec.id, rec.ref, rec.blobId, rec.createdAt);
  }

  /** Removes the record and returns it, or undefined when there was none. */
  delete(id: string): PodmanSecretRecord | undefined {
    return this.#db
      .transaction((): PodmanSecretRecord | undefined => {
        const old = this.get(id);
        if (old) this.#db.prepare('DELETE FROM podman_secrets WHERE id = ?').run(id);
        return old;
      })
      .immediate();
  }

  ids(): string[] {
    return (this.#db.prepare('SELECT id FROM podman_secrets ORDER BY id').all() as { id: string }[]).map((r) => r.id);
  }
}
