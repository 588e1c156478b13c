// The vault provider (HashiCorp Vault and OpenBao share this API): KV v1 and v2 secrets, version
// pinning, cheap change detection from KV v2 metadata, namespaces, and the auth in ./auth.ts.
// A secret's data object is the value, serialized as JSON, so `#/field` fragments select fields;
// `?field=` selects one field here (raw, optionally base64-decoded for binary values).
import { createHmac, randomBytes } from 'node:crypto';
import { KeywayError, throwIfAborted } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { ListRequest, Provider, ProviderRequest, StoreRequest, WorkloadIdentity } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import { BaseProvider } from '../kit/base.js';
import { isRecord } from '../kit/values.js';
import { VaultAuth } from './auth.js';
import { settingsFrom, type VaultConfig, type VaultSettings } from './config.js';
import { vaultError } from './errors.js';
import { VaultHttp, type VaultResponse } from './http.js';
import { apiPath, describe, matchMount, normalizePath, type Location } from './paths.js';

export interface VaultProviderOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  /** Milliseconds clock for token timing; tests move it forward. */
  readonly now?: () => number;
}

interface Client {
  readonly settings: VaultSettings;
  readonly http: VaultHttp;
  readonly auth: VaultAuth;
}

interface SendInit {
  readonly identity: WorkloadIdentity | undefined;
  readonly signal: AbortSignal;
  readonly body?: unknown;
  readonly query?: Record<string, string>;
}

interface KvRead {
  readonly data: Record<string, unknown>;
  readonly version?: number;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export class VaultProvider extends BaseProvider implements Provider {
  readonly #config: VaultConfig;
  readonly #o: VaultProviderOptions;
  /** Mounts learned from Vault (or assumed) → KV version. */
  readonly #detected = new Map<string, 1 | 2>();
  /** Keys the HMAC that stands in for a version on KV v1, which has none. */
  readonly #versionKey = randomBytes(32);
  #client: Client | undefined;

  constructor(name: string, config: VaultConfig, o: VaultProviderOptions) {
    super('vault', name, ['version', 'field', 'encoding']);
    this.#config = config;
    this.#o = o;
  }

  // ---- Provider ops ----------------------------------------------------------------------------

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const opts = this.#options(req.options);
    const loc = await this.#locate(req.path, req.identity, req.signal);
    const read = await this.#read(loc, opts.version, req.identity, req.signal);
    return this.#select(loc, read.data, opts);
  }

  async version(req: ProviderRequest): Promise<string> {
    const opts = this.#options(req.options);
    const loc = await this.#locate(req.path, req.identity, req.signal);
    if (loc.kv === 2) {
      const res = await this.#send('GET', apiPath(loc, 'metadata'), { identity: req.identity, signal: req.signal });
      if (res.status === 200) return this.#versionFromMetadata(loc, res, opts.version);
      // Policies often grant data/ but not metadata/: the data read carries the version too.
      if (res.status !== 403) throw this.#error(res, loc, 'read metadata of');
      const read = await this.#read(loc, opts.version, req.identity, req.signal);
      return `v${read.version ?? 0}`;
    }
    const read = await this.#read(loc, undefined, req.identity, req.signal);
    return 'h' + createHmac('sha256', this.#versionKey).update(JSON.stringify(read.data)).digest('hex').slice(0, 32);
  }

  async store(req: StoreRequest): Promise<void> {
    const opts = this.#options(req.options);
    if (opts.version !== undefined) throw new KeywayError('invalid_argument', `${this.where}: version cannot be set when storing (Vault assigns versions)`);
    const loc = await this.#locate(req.path, undefined, req.signal);
    let data: Record<string, unknown>;
    if (opts.field !== undefined) {
      data = await this.#readOrEmpty(loc, req.signal);
      const bytes = req.value.expose();
      data[opts.field] = opts.encoding === 'base64' ? bytes.toString('base64') : bytes.toString('utf8');
    } else {
      data = parseObject(req.value, `${this.where}: ${describe(loc)}`);
    }
    const res = loc.kv === 2
      ? await this.#send('POST', apiPath(loc, 'data'), { identity: undefined, signal: req.signal, body: { data } })
      : await this.#send('POST', apiPath(loc, 'data'), { identity: undefined, signal: req.signal, body: data });
    if (res.status !== 200 && res.status !== 204) throw this.#error(res, loc, 'write');
  }

  /** KV v2: soft-deletes the latest version (or `?version=N`), so it can be undeleted; KV v1 deletes. */
  async delete(req: ProviderRequest): Promise<void> {
    const opts = this.#options(req.options);
    const loc = await this.#locate(req.path, req.identity, req.signal);
    await this.#read(loc, opts.version, req.identity, req.signal); // not_found before a silent 204
    let res: VaultResponse;
    if (loc.kv === 2 && opts.version !== undefined) {
      res = await this.#send('POST', apiPath(loc, 'delete'), { identity: req.identity, signal: req.signal, body: { versions: [opts.version] } });
    } else {
      res = await this.#send('DELETE', apiPath(loc, 'data'), { identity: req.identity, signal: req.signal });
    }
    if (res.status !== 200 && res.status !== 204) throw this.#error(res, loc, 'delete');
  }

  /** One level below `prefix` (which must start with a mount); folders end with "/". */
  async list(req: ListRequest): Promise<string[]> {
    const prefix = normalizePath(this.where, req.prefix ?? '', true);
    if (prefix === '') throw new KeywayError('invalid_argument', `${this.where}: list needs a prefix that starts with a KV mount (e.g. secret/ or secret/team)`);
    const loc = await this.#locate(prefix, undefined, req.signal, true);
    const res = await this.#send('GET', apiPath(loc, 'metadata'), { identity: undefined, signal: req.signal, query: { list: 'true' } });
    if (res.status === 404) return [];
    if (res.status !== 200) throw this.#error(res, loc, 'list');
    const keys = (res.json as { data?: { keys?: unknown } }).data?.keys;
    if (!Array.isArray(keys)) return [];
    const base = describe(loc);
    return keys.filter((k): k is string => typeof k === 'string').map((k) => `${base}/${k}`);
  }

  async close(): Promise<void> {
    this.#client?.auth.close();
    this.#client?.http.close();
    this.#client = undefined;
    this.#versionKey.fill(0);
  }

  // ---- internals -------------------------------------------------------------------------------

  #options(raw: Readonly<Record<string, string>>): { version?: number; field?: string; encoding?: 'base64' } {
    const out: { version?: number; field?: string; encoding?: 'base64' } = {};
    if (raw.version !== undefined) {
      if (!/^[1-9][0-9]{0,9}$/.test(raw.version)) throw new KeywayError('invalid_argument', `${this.where}: option version must be a positive integer`);
      out.version = Number(raw.version);
    }
    if (raw.field !== undefined) out.field = raw.field;
    if (raw.encoding !== undefined) {
      if (raw.encoding !== 'base64') throw new KeywayError('invalid_argument', `${this.where}: option encoding must be "base64"`);
      if (raw.field === undefined) throw new KeywayError('invalid_argument', `${this.where}: option encoding needs field (the field holding the base64 text)`);
      out.encoding = 'base64';
    }
    return out;
  }

  #getClient(): Client {
    if (this.#client) return this.#client;
    const settings = settingsFrom(this.name, this.#config, this.#o.env);
    const http = new VaultHttp({ address: settings.address, where: this.where, ...(settings.caFile ? { caFile: settings.caFile } : {}), ...(settings.tlsServerName ? { tlsServerName: settings.tlsServerName } : {}) });
    const auth = new VaultAuth({ http, settings, where: this.where, now: this.#o.now ?? Date.now, logger: this.#o.logger });
    this.#client = { settings, http, auth };
    return this.#client;
  }

  #ns(c: Client): { namespace?: string } {
    return c.settings.namespace ? { namespace: c.settings.namespace } : {};
  }

  /** One request with the current token; after a 403 caused by a dead token, one retry with a new one. */
  async #send(method: string, path: string, init: SendInit): Promise<VaultResponse> {
    const c = this.#getClient();
    const req = { signal: init.signal, ...this.#ns(c), ...(init.body !== undefined ? { body: init.body } : {}), ...(init.query ? { query: init.query } : {}) };
    const token = await c.auth.token(init.identity, init.signal);
    const res = await c.http.request(method, path, { ...req, token });
    if (res.status !== 403) return res;
    if ((await c.auth.recover(init.identity, token, init.signal)) !== 'retry') return res;
    return c.http.request(method, path, { ...req, token: await c.auth.token(init.identity, init.signal) });
  }

  #error(res: VaultResponse, loc: Location, verb: string): KeywayError {
    return vaultError(this.where, `${verb} ${describe(loc)}`, res);
  }

  /** Splits a reference path into mount and secret path. */
  async #locate(path: string, identity: WorkloadIdentity | undefined, signal: AbortSignal, forList = false): Promise<Location> {
    throwIfAborted(signal, `${this.where}: request`);
    const p = normalizePath(this.where, path);
    const c = this.#getClient();
    const known = (m: string, kv: 1 | 2): Location => {
      const rest = p === m ? '' : p.slice(m.length + 1);
      if (rest === '' && !forList) throw new KeywayError('invalid_argument', `${this.where}: ${JSON.stringify(p.slice(0, 128))} names the mount ${m}, not a secret in it (expected ${m}/SECRET)`);
      return { mount: m, kv, rest };
    };
    const configured = matchMount(c.settings.mounts.keys(), p);
    if (configured !== undefined) return known(configured, c.settings.mounts.get(configured) ?? 2);
    const cached = matchMount(this.#detected.keys(), p);
    if (cached !== undefined) return known(cached, this.#detected.get(cached) ?? 2);
    const first = p.split('/')[0] ?? p;
    if (c.settings.detectMounts) {
      const res = await this.#send('GET', `sys/internal/ui/mounts/${p.split('/').map(encodeURIComponent).join('/')}`, { identity, signal });
      if (res.status === 200) {
        const d = (res.json as { data?: { path?: unknown; type?: unknown; options?: { version?: unknown } | null } }).data;
        const mount = typeof d?.path === 'string' ? d.path.replace(/^\/+|\/+$/g, '') : '';
        if (d && mount !== '' && (p === mount || p.startsWith(mount + '/'))) {
          if (d.type !== 'kv' && d.type !== 'generic') throw new KeywayError('invalid_argument', `${this.where}: ${mount} is a ${String(d.type)} secrets engine, not KV`);
          const kv: 1 | 2 = String(d.options?.version ?? '1') === '2' ? 2 : 1;
          this.#detected.set(mount, kv);
          return known(mount, kv);
        }
      } else if (res.status !== 400 && res.status !== 403 && res.status !== 404 && res.status !== 405) {
        throw vaultError(this.where, `look up the mount of ${p.slice(0, 128)}`, res);
      }
    }
    // Not allowed to ask (or told not to): the first segment is the mount.
    this.#detected.set(first, c.settings.kvVersion);
    return known(first, c.settings.kvVersion);
  }

  async #read(loc: Location, version: number | undefined, identity: WorkloadIdentity | undefined, signal: AbortSignal): Promise<KvRead> {
    if (loc.kv === 1 && version !== undefined) throw new KeywayError('invalid_argument', `${this.where}: ${describe(loc)}: version pinning needs KV v2 (mount ${loc.mount} is KV v1)`);
    const res = await this.#send('GET', apiPath(loc, 'data'), { identity, signal, ...(version !== undefined ? { query: { version: String(version) } } : {}) });
    const name = describe(loc);
    if (res.status === 404) {
      const e = this.#notFound(res, name, version);
      // A common slip: writing the API path (secret/data/app) instead of the kv path (secret/app).
      if (loc.kv === 2 && /^(data|metadata)\//.test(loc.rest) && !/deleted|destroyed/.test(e.message)) {
        throw new KeywayError('not_found', `${e.message} (references use MOUNT/SECRET without "data/", e.g. ${loc.mount}/${loc.rest.replace(/^(data|metadata)\//, '')})`);
      }
      throw e;
    }
    if (res.status !== 200) throw this.#error(res, loc, 'read');
    const body = res.json as { data?: unknown } | undefined;
    if (loc.kv === 1) {
      if (!isRecord(body?.data)) throw new KeywayError('internal', `${this.where}: read ${name}: response has no data object`);
      return { data: body.data };
    }
    const d = body?.data as { data?: unknown; metadata?: { version?: unknown } } | undefined;
    if (!isRecord(d?.data)) throw new KeywayError('internal', `${this.where}: read ${name}: response has no data.data object (is ${loc.mount} really KV v2?)`);
    return { data: d.data, ...(typeof d.metadata?.version === 'number' ? { version: d.metadata.version } : {}) };
  }

  async #readOrEmpty(loc: Location, signal: AbortSignal): Promise<Record<string, unknown>> {
    try {
      return { ...(await this.#read(loc, undefined, undefined, signal)).data };
    } catch (e) {
      if (e instanceof KeywayError && e.code === 'not_found') return {};
      throw e;
    }
  }

  /** KV v2 answers 404 with an envelope for deleted and destroyed versions; say which. */
  #notFound(res: VaultResponse, name: string, version: number | undefined): KeywayError {
    const meta = (res.json as { data?: { metadata?: { deletion_time?: unknown; destroyed?: unknown; version?: unknown } } } | undefined)?.data?.metadata;
    const which = version !== undefined ? `version ${version} of ${name}` : typeof meta?.version === 'number' ? `${name} (current version ${meta.version})` : name;
    if (meta?.destroyed === true) return new KeywayError('not_found', `${this.where}: ${which} was destroyed; its data is gone (read an older version with ?version=N or write a new one)`);
    if (typeof meta?.deletion_time === 'string' && meta.deletion_time !== '') {
      return new KeywayError('not_found', `${this.where}: ${which} was deleted at ${meta.deletion_time} (soft delete: "vault kv undelete" restores it)`);
    }
    return new KeywayError('not_found', `${this.where}: ${version !== undefined ? `version ${version} of ${name} does not exist` : `no secret at ${name}`}`);
  }

  #versionFromMetadata(loc: Location, res: VaultResponse, pinned: number | undefined): string {
    const d = (res.json as { data?: { current_version?: unknown; versions?: Record<string, { deletion_time?: unknown; destroyed?: unknown }> } }).data;
    const n = pinned ?? (typeof d?.current_version === 'number' ? d.current_version : undefined);
    if (n === undefined || n === 0) throw new KeywayError('not_found', `${this.where}: no secret at ${describe(loc)}`);
    const v = d?.versions?.[String(n)];
    if (!v) throw new KeywayError('not_found', `${this.where}: version ${n} of ${describe(loc)} does not exist`);
    const fake: VaultResponse = { status: 404, json: { data: { metadata: { ...v, version: n } } } };
    if (v.destroyed === true || (typeof v.deletion_time === 'string' && v.deletion_time !== '')) throw this.#notFound(fake, describe(loc), pinned);
    return `v${n}`;
  }

  #select(loc: Location, data: Record<string, unknown>, opts: { field?: string; encoding?: 'base64' }): SecretValue {
    if (opts.field === undefined) return SecretValue.fromString(JSON.stringify(data));
    const name = describe(loc);
    if (!Object.hasOwn(data, opts.field)) {
      const fields = Object.keys(data).slice(0, 20).map((k) => JSON.stringify(k)).join(', ');
      throw new KeywayError('not_found', `${this.where}: ${name} has no field ${JSON.stringify(opts.field)} (fields: ${fields || 'none'})`);
    }
    const v = data[opts.field];
    if (opts.encoding === 'base64') {
      if (typeof v !== 'string' || !BASE64_RE.test(v.replace(/\s+/g, ''))) throw new KeywayError('invalid_argument', `${this.where}: field ${JSON.stringify(opts.field)} of ${name} is not base64 text`);
      return SecretValue.adopt(Buffer.from(v, 'base64'));
    }
    return SecretValue.fromString(typeof v === 'string' ? v : JSON.stringify(v));
  }
}


function parseObject(value: SecretValue, where: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.expose().toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) throw new KeywayError('invalid_argument', `${where}: a Vault KV secret is a JSON object; store one, or use ?field=NAME to set a single field`);
  return parsed;
}
