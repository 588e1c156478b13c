// Ciphertext rows of the local provider. Only the local provider reads or writes these.
import type { Db } from './db.js';
import { nowIso } from './db.js';

export interface BlobRecord {
  readonly id: string;
  readonly keyId: string;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
  readonly createdAt: string;
}

export class BlobsRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(id: string): BlobRecord | undefined {
    // Columns under their record names, so a row is the record.
    return this.#db.prepare('SELECT id, key_id AS keyId, nonce, ciphertext, tag, created_at AS createdAt FROM local_blobs WHERE id = ?').get(id) as BlobRecord | undefined;
  }

  put(b: Omit<BlobRecord, 'createdAt'>): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO local_blobs (id, key_id, nonce, ciphertext, tag, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(b.id, b.keyId, b.nonce, b.ciphertext, b.tag, nowIso());
  }

  delete(id: string): boolean {
    return this.#db.prepare('DELETE FROM local_blobs WHERE id = ?').run(id).changes > 0;
  }

  ids(prefix = ''): string[] {
    return (this.#db.prepare("SELECT id FROM local_blobs WHERE id LIKE ? || '%' ORDER BY id").all(prefix.replace(/[%_]/g, '')) as { id: string }[]).map((r) => r.id);
  }
}
