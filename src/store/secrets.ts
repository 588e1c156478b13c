// Named secrets: metadata only (a reference, or the id of a local ciphertext blob).
import { KeywayError } from '../core/errors.js';
import type { Db } from './db.js';
import { jsonColumn } from './json-column.js';
import type { Statement } from './sqlite.js';

export interface SecretRecord {
  readonly id: string;
  readonly name: string;
  readonly ref: string | null;
  readonly blobId: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly mode: number | null;
  readonly uid: number | null;
  readonly gid: number | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

// Columns under their record names: a row is the record but for labels, which is JSON text.
const COLUMNS = 'id, name, ref, blob_id AS blobId, labels, mode, uid, gid, created_at AS createdAt, updated_at AS updatedAt';

type Row = Omit<SecretRecord, 'labels'> & { labels: string };

const fromRow = (r: Row): SecretRecord => ({ ...r, labels: jsonColumn<Record<string, string>>(r.labels, `labels of secret ${JSON.stringify(r.name)}`) });

/** Shortest id prefix that may stand for a secret in a NAME-or-ID argument. */
export const MIN_ID_PREFIX = 12;
const ID_PREFIX_RE = new RegExp(`^[0-9a-f]{${MIN_ID_PREFIX},25}$`);

export class SecretsRepo {
  readonly #db: Db;
  // Prepared once: `get` is on every resolve's path.
  readonly #byName: Statement;

  constructor(db: Db) {
    this.#db = db;
    this.#byName = db.prepare(`SELECT ${COLUMNS} FROM secrets WHERE name = ?`);
  }

  get(name: string): SecretRecord | undefined {
    return this.#byName.one(fromRow, name);
  }

  /**
   * A NAME-or-ID argument (`secret rm`, `inspect`, `exists`): an exact name wins; otherwise a full
   * id, or an id prefix of at least MIN_ID_PREFIX hex digits that matches exactly one secret.
   * Short prefixes never count: `rm 46d` must not remove a secret that merely has such an id.
   */
  find(nameOrId: string): SecretRecord | undefined {
    return this.get(nameOrId) ?? this.getById(nameOrId);
  }

  /** By full id or an unambiguous prefix of at least MIN_ID_PREFIX hex digits. */
  getById(idOrPrefix: string): SecretRecord | undefined {
    if (!ID_PREFIX_RE.test(idOrPrefix)) return undefined;
    const found = this.#db.prepare(`SELECT ${COLUMNS} FROM secrets WHERE id LIKE ? || '%' LIMIT 2`).many(fromRow, idOrPrefix);
    if (found.length > 1) throw new KeywayError('invalid_argument', `id prefix ${JSON.stringify(idOrPrefix)} matches more than one secret; give more digits or the name`);
    return found[0];
  }

  list(): SecretRecord[] {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM secrets ORDER BY name`).many(fromRow);
  }

  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM secrets').get() as { n: number }).n;
  }

  /** Inserts, or with `replace` swaps the record of the same name in one transaction; returns the old one. */
  put(rec: SecretRecord, replace: boolean): SecretRecord | undefined {
    return this.#db
      .transaction((): SecretRecord | undefined => {
        const old = this.get(rec.name);
        if (old && !replace) throw new KeywayError('already_exists', `secret ${JSON.stringify(rec.name)} already exists (use --replace to replace it)`);
        if (old) this.#db.prepare('DELETE FROM secrets WHERE id = ?').run(old.id);
        const r = old ? { ...rec, createdAt: old.createdAt } : rec;
        this.#db
          .prepare('INSERT INTO secrets (id, name, ref, blob_id, labels, mode, uid, gid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(r.id, r.name, r.ref, r.blobId, JSON.stringify(r.labels), r.mode, r.uid, r.gid, r.createdAt, r.updatedAt);
        return old;
      })
      .immediate();
  }

  delete(name: string): SecretRecord | undefined {
    return this.#db
      .transaction((): SecretRecord | undefined => {
        const old = this.get(name);
        if (old) this.#db.prepare('DELETE FROM secrets WHERE id = ?').run(old.id);
        return old;
      })
      .immediate();
  }

  /** True when some named secret other than `exceptId` still uses the blob. */
  blobInUse(blobId: string, exceptId?: string): boolean {
    return this.#db.prepare('SELECT 1 FROM secrets WHERE blob_id = ? AND id IS NOT ? LIMIT 1').get(blobId, exceptId ?? null) !== undefined;
  }
}
