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
    const r = this.#db.prepare('SELECT * FROM local_blobs WHERE id = ?').get(id) as
      | { id: string; key_id: string; nonce: Buffer; ciphertext: Buffer; tag: Buffer; created_at: string }
      | undefined;
    return r && { id: r.id, keyId: r.key_id, nonce: r.nonce, ciphertext: r.ciphertext, tag: r.tag, createdAt: r.created_at };
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
