// The plugin catalog table: executables pinned by sha256, or OCI images pinned by digest. Holds
// configuration only; `env` is plain configuration stored as-is, so it must not carry secrets.
import { KeywayError } from '../core/errors.js';
import type { Db } from './db.js';
import { nowIso } from './db.js';
import { jsonColumn } from './json-column.js';

export interface PluginRecord {
  readonly name: string;
  readonly path: string | null;
  readonly sha256: string | null;
  readonly ociImage: string | null;
  readonly runtime: string | null;
  readonly lifecycle: 'oneshot' | 'serve';
  readonly dialect: 'keyway' | 'podman';
  readonly allowNetwork: boolean;
  readonly env: Readonly<Record<string, string>>;
  /** sandbox, ro_binds, option_keys, ops, timeout_ms, source ... */
  readonly options: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

// Columns under their record names; lifecycle, dialect, allowNetwork, env and options are checked
// or decoded on the way out.
const COLUMNS =
  'name, path, sha256, oci_image AS ociImage, runtime, lifecycle, dialect, allow_network AS allowNetwork, env, options, created_at AS createdAt, updated_at AS updatedAt';

type Row = Omit<PluginRecord, 'lifecycle' | 'dialect' | 'allowNetwork' | 'env' | 'options'> & { lifecycle: string; dialect: string; allowNetwork: number; env: string; options: string };

function fromRow(r: Row): PluginRecord {
  const what = `plugin ${JSON.stringify(r.name)}`;
  return {
    ...r,
    lifecycle: r.lifecycle === 'serve' ? 'serve' : 'oneshot',
    dialect: r.dialect === 'podman' ? 'podman' : 'keyway',
    allowNetwork: r.allowNetwork !== 0,
    env: jsonColumn<Record<string, string>>(r.env, `env of ${what}`),
    options: jsonColumn<Record<string, unknown>>(r.options, `options of ${what}`),
  };
}

export type NewPlugin = Omit<PluginRecord, 'createdAt' | 'updatedAt'>;

export class PluginsRepo {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(name: string): PluginRecord | undefined {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM plugins WHERE name = ?`).one(fromRow, name);
  }

  list(): PluginRecord[] {
    return this.#db.prepare(`SELECT ${COLUMNS} FROM plugins ORDER BY name`).many(fromRow);
  }

  /** Inserts, or replaces when `replace` is set (keeping created_at). */
  put(p: NewPlugin, replace = false): PluginRecord {
    const now = nowIso();
    const params = {
      name: p.name,
      path: p.path,
      sha256: p.sha256,
      oci_image: p.ociImage,
      runtime: p.runtime,
      lifecycle: p.lifecycle,
      dialect: p.dialect,
      allow_network: p.allowNetwork ? 1 : 0,
      env: JSON.stringify(p.env),
      options: JSON.stringify(p.options),
      now,
    };
    this.#db.transaction(() => {
      const existing = this.get(p.name);
      if (existing && !replace) throw new KeywayError('already_exists', `plugin "${p.name}" is already registered (use --replace)`);
      if (existing) {
        this.#db
          .prepare('UPDATE plugins SET path=@path, sha256=@sha256, oci_image=@oci_image, runtime=@runtime, lifecycle=@lifecycle, dialect=@dialect, allow_network=@allow_network, env=@env, options=@options, updated_at=@now WHERE name=@name')
          .run(params);
      } else {
        this.#db
          .prepare('INSERT INTO plugins (name, path, sha256, oci_image, runtime, lifecycle, dialect, allow_network, env, options, created_at, updated_at) VALUES (@name, @path, @sha256, @oci_image, @runtime, @lifecycle, @dialect, @allow_network, @env, @options, @now, @now)')
          .run(params);
      }
    }).immediate();
    const out = this.get(p.name);
    if (!out) throw new KeywayError('internal', `plugin "${p.name}" vanished after it was written`);
    return out;
  }

  remove(name: string): boolean {
    return this.#db.prepare('DELETE FROM plugins WHERE name = ?').run(name).changes > 0;
  }
}
