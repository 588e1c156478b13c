// In-memory state of the Vault emulator: namespaces with KV mounts, tokens, auth roles and a
// controllable clock. Written from Vault's public HTTP API docs; only what keyway's client needs.
import { randomBytes, randomUUID } from 'node:crypto';

export interface KvVersion {
  data: Record<string, unknown> | null;
  createdTime: string;
  deletionTime: string;
  destroyed: boolean;
}

export interface KvV2Secret {
  versions: Map<number, KvVersion>;
  currentVersion: number;
  createdTime: string;
  updatedTime: string;
}

export interface Mount {
  /** Mount path with a trailing slash, as Vault reports it (`secret/`). */
  path: string;
  kvVersion: 1 | 2;
  accessor: string;
  v1: Map<string, Record<string, unknown>>;
  v2: Map<string, KvV2Secret>;
}

export type Capability = 'read' | 'list' | 'create' | 'update' | 'delete' | 'sudo';

/** A policy: API path prefixes (after /v1/, without namespace) mapped to capabilities; `*` suffix = prefix. */
export type Policy = Record<string, Capability[]>;

export interface Token {
  id: string;
  accessor: string;
  namespace: string;
  policies: string[];
  /** TTL in seconds at issue; 0 = never expires (root). */
  ttl: number;
  renewable: boolean;
  issuedAt: number;
  expiresAt: number; // seconds on the emulator clock, Infinity when ttl is 0
  explicitMaxTtl: number;
  revoked: boolean;
  meta: Record<string, string>;
}

export interface AppRole {
  roleId: string;
  secretIds: Set<string>;
  policies: string[];
  ttl: number;
}

export interface JwtRole {
  /** For the kubernetes method: allowed `namespace/serviceaccount` pairs. */
  boundServiceAccounts?: string[];
  /** For the jwt method: required `aud` value. */
  boundAudience?: string;
  policies: string[];
  ttl: number;
}

export class Clock {
  #offset = 0;
  /** Seconds since the epoch, advanced by tests. */
  now(): number {
    return Date.now() / 1000 + this.#offset;
  }
  advance(seconds: number): void {
    this.#offset += seconds;
  }
  iso(at = this.now()): string {
    return new Date(at * 1000).toISOString();
  }
}

export class VaultState {
  readonly clock = new Clock();
  readonly namespaces = new Map<string, Map<string, Mount>>([['', new Map()]]);
  readonly tokens = new Map<string, Token>();
  readonly policies = new Map<string, Policy>();
  readonly appRoles = new Map<string, AppRole>(); // by role_id
  readonly kubernetesRoles = new Map<string, JwtRole>();
  readonly jwtRoles = new Map<string, JwtRole>();
  sealed = false;
  /** Requests to answer with 429 before serving normally again. */
  throttleNext = 0;
  /** Requests to answer with a dropped connection (network failure). */
  dropNext = 0;
  /** Whether sys/internal/ui/mounts exists (older servers answer 404). */
  preflight = true;
  /** Delay before each answer, in ms (for cancellation tests). */
  delayMs = 0;
  readonly requests: { method: string; path: string; namespace: string; token: string | undefined }[] = [];

  constructor() {
    this.policies.set('root', { '*': ['read', 'list', 'create', 'update', 'delete', 'sudo'] });
    this.policies.set('default', { 'auth/token/lookup-self': ['read'], 'auth/token/renew-self': ['update'] });
  }

  namespace(ns: string): Map<string, Mount> {
    let m = this.namespaces.get(ns);
    if (!m) {
      m = new Map();
      this.namespaces.set(ns, m);
    }
    return m;
  }

  mount(path: string, kvVersion: 1 | 2, ns = ''): Mount {
    const p = path.replace(/^\/+|\/+$/g, '') + '/';
    const m: Mount = { path: p, kvVersion, accessor: `kv_${randomBytes(4).toString('hex')}`, v1: new Map(), v2: new Map() };
    this.namespace(ns).set(p, m);
    return m;
  }

  /** The mount whose path is the longest prefix of `apiPath`. */
  findMount(ns: string, apiPath: string): { mount: Mount; rest: string } | undefined {
    const mounts = this.namespaces.get(ns);
    if (!mounts) return undefined;
    let best: Mount | undefined;
    for (const m of mounts.values()) if ((apiPath + '/').startsWith(m.path) && (!best || m.path.length > best.path.length)) best = m;
    if (!best) return undefined;
    return { mount: best, rest: apiPath.slice(best.path.length).replace(/^\/+/, '') };
  }

  issueToken(opts: { policies: string[]; ttl?: number; renewable?: boolean; namespace?: string; id?: string; explicitMaxTtl?: number; meta?: Record<string, string> }): Token {
    const now = this.clock.now();
    const ttl = opts.ttl ?? 0;
    const t: Token = {
      id: opts.id ?? `hvs.${randomBytes(18).toString('base64url')}`,
      accessor: randomBytes(12).toString('base64url'),
      namespace: opts.namespace ?? '',
      policies: opts.policies,
      ttl,
      renewable: opts.renewable ?? ttl > 0,
      issuedAt: now,
      expiresAt: ttl > 0 ? now + ttl : Infinity,
      explicitMaxTtl: opts.explicitMaxTtl ?? 0,
      revoked: false,
      meta: opts.meta ?? {},
    };
    this.tokens.set(t.id, t);
    return t;
  }

  /** A live token, or undefined when unknown, revoked or expired. */
  liveToken(id: string | undefined): Token | undefined {
    if (!id) return undefined;
    const t = this.tokens.get(id);
    if (!t || t.revoked || t.expiresAt <= this.clock.now()) return undefined;
    return t;
  }

  allowed(token: Token, apiPath: string, cap: Capability): boolean {
    for (const name of [...token.policies, 'default']) {
      const p = this.policies.get(name);
      if (!p) continue;
      for (const [pattern, caps] of Object.entries(p)) {
        const match = pattern.endsWith('*') ? apiPath.startsWith(pattern.slice(0, -1)) : apiPath === pattern;
        if (match && caps.includes(cap)) return true;
      }
    }
    return false;
  }

  putV2(mount: Mount, path: string, data: Record<string, unknown>): number {
    const now = this.clock.iso();
    let s = mount.v2.get(path);
    if (!s) {
      s = { versions: new Map(), currentVersion: 0, createdTime: now, updatedTime: now };
      mount.v2.set(path, s);
    }
    s.currentVersion += 1;
    s.updatedTime = now;
    s.versions.set(s.currentVersion, { data, createdTime: now, deletionTime: '', destroyed: false });
    return s.currentVersion;
  }

  requestId(): string {
    return randomUUID();
  }
}
