// The plugin catalog: entries from `[plugins.NAME]` in config and from SQLite (`keyway plugin
// register`), turned into launchable PluginEntry values. Config entries win over registered ones of
// the same name (an operator's file is the stronger statement).
import { KeywayError } from '../core/errors.js';
import { PROVIDER_NAME_RE } from '../core/reference.js';
import type { PluginRecord, PluginsRepo } from '../store/plugins.js';
import { DEFAULT_TIMEOUT_MS, type Dialect, type Lifecycle, type PluginEntry } from './entry.js';
import { SHA256_RE } from './host/executable.js';
import { validateUserSpec } from './host/user.js';
import { checkOciImageRef } from './host/oci-image.js';

/** The shape of a validated `[plugins.NAME]` table (see src/config/schema.ts). */
export interface PluginConfigLike {
  readonly path?: string | undefined;
  readonly sha256?: string | undefined;
  readonly oci_image?: string | undefined;
  readonly runtime?: string | undefined;
  readonly lifecycle: Lifecycle;
  readonly dialect: Dialect;
  readonly allow_network: boolean;
  readonly sandbox: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly timeout_ms: number;
  readonly ro_binds?: readonly string[] | undefined;
  readonly user?: string | undefined;
  readonly option_keys?: readonly string[] | undefined;
}

export function validatePluginName(name: string): string {
  if (!PROVIDER_NAME_RE.test(name)) throw new KeywayError('invalid_argument', `plugin name ${JSON.stringify(name.slice(0, 64))} is invalid (lowercase letters, digits, "-" or "_", 1-63 chars)`);
  return name;
}

function checkPinned(name: string, e: Pick<PluginEntry, 'path' | 'sha256' | 'ociImage' | 'roBinds' | 'user'>, where: string): void {
  if (e.user !== undefined) validateUserSpec(e.user, where);
  if (e.ociImage !== undefined) {
    checkOciImageRef(e.ociImage, where);
    if (e.path !== undefined) throw new KeywayError('invalid_argument', `${where}: give either path or oci_image, not both`);
    if (e.roBinds.length > 0) throw new KeywayError('invalid_argument', `${where}: ro_binds are not supported for oci_image plugins; put the files in the image`);
    return;
  }
  if (e.path === undefined) throw new KeywayError('invalid_argument', `${where}: path (or oci_image) is required`);
  if (e.sha256 === undefined || !SHA256_RE.test(e.sha256)) throw new KeywayError('invalid_argument', `${where}: sha256 (64 lowercase hex) is required to pin ${e.path}`);
  void name;
}

export function entryFromConfig(name: string, c: PluginConfigLike): PluginEntry {
  validatePluginName(name);
  const e: PluginEntry = {
    name,
    ...(c.path !== undefined ? { path: c.path } : {}),
    ...(c.sha256 !== undefined ? { sha256: c.sha256 } : {}),
    ...(c.oci_image !== undefined ? { ociImage: c.oci_image } : {}),
    ...(c.runtime !== undefined ? { runtime: c.runtime } : {}),
    lifecycle: c.dialect === 'podman' ? 'oneshot' : c.lifecycle,
    dialect: c.dialect,
    allowNetwork: c.allow_network,
    env: c.env,
    timeoutMs: c.timeout_ms,
    sandbox: c.sandbox,
    roBinds: c.ro_binds ?? [],
    ...(c.user !== undefined ? { user: c.user } : {}),
    optionKeys: c.option_keys ?? [],
  };
  checkPinned(name, e, `plugins.${name}`);
  return e;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function entryFromRecord(r: PluginRecord): PluginEntry {
  const o = r.options;
  const e: PluginEntry = {
    name: r.name,
    ...(r.path !== null ? { path: r.path } : {}),
    ...(r.sha256 !== null ? { sha256: r.sha256 } : {}),
    ...(r.ociImage !== null ? { ociImage: r.ociImage } : {}),
    ...(r.runtime !== null ? { runtime: r.runtime } : {}),
    lifecycle: r.dialect === 'podman' ? 'oneshot' : r.lifecycle,
    dialect: r.dialect,
    allowNetwork: r.allowNetwork,
    env: r.env,
    timeoutMs: typeof o.timeout_ms === 'number' ? o.timeout_ms : DEFAULT_TIMEOUT_MS,
    sandbox: o.sandbox !== false,
    roBinds: strings(o.ro_binds),
    ...(typeof o.user === 'string' ? { user: o.user } : {}),
    optionKeys: strings(o.option_keys),
  };
  checkPinned(r.name, e, `plugin ${r.name}`);
  return e;
}

export interface CatalogItem {
  readonly entry: PluginEntry;
  readonly source: 'config' | 'registered';
  /** Ops the plugin reported at registration (registered entries only). */
  readonly ops?: readonly string[];
}

export class PluginCatalog {
  readonly #config: ReadonlyMap<string, PluginEntry>;
  readonly #repo: PluginsRepo | undefined;

  constructor(config: Readonly<Record<string, PluginConfigLike>>, repo?: PluginsRepo) {
    this.#config = new Map(Object.entries(config).map(([n, c]) => [n, entryFromConfig(n, c)]));
    this.#repo = repo;
  }

  get(name: string): CatalogItem | undefined {
    const c = this.#config.get(name);
    if (c) return { entry: c, source: 'config' };
    const r = this.#repo?.get(name);
    if (!r) return undefined;
    const ops = strings(r.options.ops);
    return { entry: entryFromRecord(r), source: 'registered', ...(ops.length > 0 ? { ops } : {}) };
  }

  has(name: string): boolean {
    return this.#config.has(name) || this.#repo?.get(name) !== undefined;
  }

  names(): string[] {
    return [...new Set([...this.#config.keys(), ...(this.#repo?.list().map((r) => r.name) ?? [])])].sort();
  }
}
