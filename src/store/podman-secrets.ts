// Secrets stored through Podman's shell driver (or keyway's podman-plugin), keyed by Podman's own
// id. Podman keeps the name, labels and timestamps in its secrets.json; keyway keeps only what backs
// the id: a reference, or the id of a local ciphertext blob.
import { KeywayError } from '../core/errors.js';
import type { Db } from './db.js';
import { isKeyConflict } from './sqlite-errors.js';

export interface PodmanSecretRecord {
  readonly id: string;
  readonly ref: string | null;
  readonly blobId: string | null;
  readonly createdAt: string;
}

interface Row {
  id: string;
  ref: string | null;
  blob_id: string | null;
  created_at: string;
}

const fromRow = (r: Row): PodmanSecretRecord => ({ id: r.id, ref: r.ref, blobId: r.blob_id, createdAt: r.created_at });

export class PodmanSecretsRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(id: string): PodmanSecretRecord | undefined {
    const row = this.#db.prepare('SELECT id, ref, blob_id, created_at FROM podman_secrets WHERE id = ?').get(id) as Row | undefined;
    return row && fromRow(row);
  }

  /** Inserts a new record; an id that already exists is refused and left as it was. */
  insert(rec: PodmanSecretRecord): void {
    try {
      this.#db.prepare('INSERT INTO podman_secrets (id, ref, blob_id, created_at) VALUES (?, ?, ?, ?)').run(rec.id, rec.ref, rec.blobId, rec.createdAt);
    } catch (e) {
      if (isKeyConflict(e)) throw new KeywayError('already_exists', `podman secret ${rec.id} already exists`, { cause: e });
      throw e;
    }
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
