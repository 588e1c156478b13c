// Vault HTTP API emulator: node http(s) server on 127.0.0.1 with a random port. Covers the parts
// of the documented API that keyway uses — KV v1/v2, token self-endpoints, AppRole, Kubernetes and
// JWT login, the mount preflight endpoint — with Vault's status codes and {"errors":[...]} bodies.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { answerOversize } from '../http.js';
import { type Capability, type JwtRole, type Mount, type Token, VaultState } from './state.js';

export interface VaultEmulatorOptions {
  tls?: { cert: string; key: string };
}

interface Req {
  method: string;
  path: string; // after /v1/, no leading slash, decoded
  query: URLSearchParams;
  namespace: string;
  token: string | undefined;
  body: unknown;
}

export type Reply = { status: number; body?: unknown };

const errors = (status: number, ...messages: string[]): Reply => ({ status, body: { errors: messages } });
const denied = (): Reply => errors(403, 'permission denied');

export class VaultEmulator {
  readonly state = new VaultState();
  /** When set, every request is answered with it (an outage with a given status). */
  failure: Reply | undefined;
  /** When true, requests are accepted and never answered. */
  hang = false;
  /** When true, answers announce a body far larger than any client accepts. */
  oversize = false;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #url = '';

  private constructor(opts: VaultEmulatorOptions) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.#onRequest(req, res);
    this.#server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
    this.#server.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.#server.on('secureConnection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(opts: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
    const e = new VaultEmulator(opts);
    await new Promise<void>((resolve, reject) => {
      e.#server.once('error', reject);
      e.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (e.#server.address() as AddressInfo).port;
    e.#url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return e;
  }

  get url(): string {
    return this.#url;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ---- test controls -------------------------------------------------------------------------

  seal(): void {
    this.state.sealed = true;
  }
  unseal(): void {
    this.state.sealed = false;
  }
  /** Expires a token now, out of band (as if its TTL ran out while the client was not looking). */
  expireToken(id: string): void {
    const t = this.state.tokens.get(id);
    if (t) t.expiresAt = this.state.clock.now();
  }
  revokeToken(id: string): void {
    const t = this.state.tokens.get(id);
    if (t) t.revoked = true;
  }
  setPolicy(name: string, rules: Record<string, Capability[]>): void {
    this.state.policies.set(name, rules);
  }
  rootToken(): Token {
    return this.state.issueToken({ policies: ['root'] });
  }
  addAppRole(roleName: string, roleId: string, secretId: string, policies: string[], ttl = 3600): void {
    this.state.appRoles.set(roleId, { roleId, secretIds: new Set([secretId]), policies, ttl });
    void roleName;
  }
  addKubernetesRole(role: string, r: JwtRole): void {
    this.state.kubernetesRoles.set(role, r);
  }
  addJwtRole(role: string, r: JwtRole): void {
    this.state.jwtRoles.set(role, r);
  }
  /** Tokens issued by logins, newest last. */
  loginTokens(): Token[] {
    return [...this.state.tokens.values()].filter((t) => t.meta.login !== undefined);
  }
  requestsTo(prefix: string): number {
    return this.state.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  // ---- HTTP plumbing ---------------------------------------------------------------------------

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const st = this.state;
      if (st.dropNext > 0) {
        st.dropNext -= 1;
        req.socket.destroy();
        return;
      }
      if (this.hang) return;
      if (this.oversize) return answerOversize(res);
      const answer = (): void => {
        if (res.destroyed) return;
        let reply: Reply;
        try {
          reply = this.failure ?? this.#handle(req, Buffer.concat(chunks));
        } catch (e) {
          reply = errors(500, e instanceof Error ? e.message : 'internal error');
        }
        const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
        res.writeHead(reply.status, body ? { 'content-type': 'application/json', 'cache-control': 'no-store' } : { 'cache-control': 'no-store' });
        res.end(body);
      };
      if (st.delayMs > 0) {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          answer();
        }, st.delayMs);
        this.#timers.add(t);
      } else answer();
    });
  }

  #handle(raw: IncomingMessage, bodyBytes: Buffer): Reply {
    const url = new URL(raw.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/v1/')) return errors(404);
    const auth = raw.headers.authorization;
    const req: Req = {
      method: raw.method ?? 'GET',
      path: decodeURIComponent(url.pathname.slice(4)).replace(/\/+$/, ''),
      query: url.searchParams,
      namespace: String(raw.headers['x-vault-namespace'] ?? '').replace(/^\/+|\/+$/g, ''),
      token: (raw.headers['x-vault-token'] as string | undefined) ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined),
      body: undefined,
    };
    if (bodyBytes.length > 0) {
      try {
        req.body = JSON.parse(bodyBytes.toString('utf8'));
      } catch {
        return errors(400, 'failed to parse JSON input');
      }
    }
    this.state.requests.push({ method: req.method, path: req.path, namespace: req.namespace, token: req.token });

    if (req.path === 'sys/health') return { status: this.state.sealed ? 503 : 200, body: { initialized: true, sealed: this.state.sealed, standby: false } };
    if (this.state.sealed) return errors(503, 'Vault is sealed');
    if (this.state.throttleNext > 0) {
      this.state.throttleNext -= 1;
      return errors(429, `request path "${req.path}": rate limit quota exceeded`);
    }

    const login = /^auth\/([^/]+)\/login$/.exec(req.path);
    if (login && (req.method === 'POST' || req.method === 'PUT')) return this.#login(login[1] ?? '', req);

    const token = this.state.liveToken(req.token);
    if (!token) return denied();
    // A token is usable in its own namespace (and a root-namespace token everywhere).
    if (token.namespace !== '' && token.namespace !== req.namespace) return denied();

    if (req.path === 'auth/token/lookup-self') return this.#lookupSelf(token);
    if (req.path === 'auth/token/renew-self') return this.#renewSelf(token, req);
    if (req.path.startsWith('sys/internal/ui/mounts/')) {
      return this.state.preflight ? this.#preflight(token, req) : errors(404, `no handler for route "${req.path}". route entry not found.`);
    }

    const found = this.state.findMount(req.namespace, req.path);
    if (!found) return token.policies.includes('root') ? errors(404, `no handler for route "${req.path}". route entry not found.`) : denied();
    return found.mount.kvVersion === 2 ? this.#kv2(token, req, found.mount, found.rest) : this.#kv1(token, req, found.mount, found.rest);
  }

  #envelope(data: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { request_id: this.state.requestId(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null, mount_type: 'kv', ...extra };
  }

  #capFor(req: Req): Capability {
    if (req.method === 'LIST' || (req.method === 'GET' && req.query.get('list') === 'true')) return 'list';
    if (req.method === 'GET') return 'read';
    if (req.method === 'DELETE') return 'delete';
    return 'update';
  }

  // ---- auth ------------------------------------------------------------------------------------

  #authBlock(t: Token): Record<string, unknown> {
    return {
      client_token: t.id,
      accessor: t.accessor,
      policies: ['default', ...t.policies],
      token_policies: ['default', ...t.policies],
      metadata: t.meta,
      lease_duration: t.ttl,
      renewable: t.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: true,
      mfa_requirement: null,
      num_uses: 0,
    };
  }

  #login(mount: string, req: Req): Reply {
    const body = (req.body ?? {}) as Record<string, unknown>;
    let policies: string[];
    let ttl: number;
    let meta: Record<string, string>;
    if (mount === 'approle') {
      const role = this.state.appRoles.get(String(body.role_id ?? ''));
      if (!role) return errors(400, 'invalid role or secret ID');
      if (!role.secretIds.has(String(body.secret_id ?? ''))) return errors(400, 'invalid role or secret ID');
      policies = role.policies;
      ttl = role.ttl;
      meta = { login: 'approle', role_id: role.roleId };
    } else if (mount === 'kubernetes' || mount === 'jwt') {
      const roleName = String(body.role ?? '');
      const role = (mount === 'kubernetes' ? this.state.kubernetesRoles : this.state.jwtRoles).get(roleName);
      if (!role) return errors(400, `invalid role name "${roleName}"`);
      const claims = decodeJwt(String(body.jwt ?? ''));
      if (!claims) return errors(400, 'missing or malformed jwt');
      if (typeof claims.exp === 'number' && claims.exp <= this.state.clock.now()) return errors(400, 'token is expired');
      if (mount === 'kubernetes') {
        const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(String(claims.sub ?? ''));
        if (!m || !(role.boundServiceAccounts ?? []).includes(`${m[1]}/${m[2]}`)) return denied();
        meta = { login: 'kubernetes', role: roleName, service_account: `${m[1]}/${m[2]}` };
      } else {
        const aud = Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud ?? '')];
        if (role.boundAudience && !aud.includes(role.boundAudience)) return errors(400, 'error validating claims: aud claim does not match any bound audience');
        meta = { login: 'jwt', role: roleName, sub: String(claims.sub ?? '') };
      }
      policies = role.policies;
      ttl = role.ttl;
    } else {
      return errors(400, `no handler for route "auth/${mount}/login". route entry not found.`);
    }
    const t = this.state.issueToken({ policies, ttl, renewable: true, namespace: req.namespace, meta });
    return { status: 200, body: { ...this.#envelope(null), auth: this.#authBlock(t) } };
  }

  #lookupSelf(t: Token): Reply {
    const now = this.state.clock.now();
    return {
      status: 200,
      body: this.#envelope({
        accessor: t.accessor,
        creation_time: Math.floor(t.issuedAt),
        creation_ttl: t.ttl,
        display_name: 'token',
        entity_id: '',
        expire_time: Number.isFinite(t.expiresAt) ? this.state.clock.iso(t.expiresAt) : null,
        explicit_max_ttl: t.explicitMaxTtl,
        id: t.id,
        issue_time: this.state.clock.iso(t.issuedAt),
        meta: t.meta,
        num_uses: 0,
        orphan: true,
        path: 'auth/token/create',
        policies: ['default', ...t.policies],
        renewable: t.renewable,
        ttl: Number.isFinite(t.expiresAt) ? Math.max(0, Math.floor(t.expiresAt - now)) : 0,
        type: 'service',
      }),
    };
  }

  #renewSelf(t: Token, req: Req): Reply {
    if (req.method !== 'POST' && req.method !== 'PUT') return errors(405, 'unsupported operation');
    if (!t.renewable || t.ttl === 0) return errors(400, 'lease is not renewable');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const inc = typeof body.increment === 'number' ? body.increment : t.ttl;
    const now = this.state.clock.now();
    let exp = now + inc;
    if (t.explicitMaxTtl > 0) exp = Math.min(exp, t.issuedAt + t.explicitMaxTtl);
    t.expiresAt = exp;
    t.meta.renewals = String(Number(t.meta.renewals ?? '0') + 1);
    return { status: 200, body: { ...this.#envelope(null), auth: { ...this.#authBlock(t), lease_duration: Math.floor(exp - now) } } };
  }

  #preflight(t: Token, req: Req): Reply {
    const target = req.path.slice('sys/internal/ui/mounts/'.length);
    const found = this.state.findMount(req.namespace, target);
    const denyMsg = 'preflight capability check returned 403, please ensure client\'s policies grant access to path "' + target + '/"';
    if (!found) return errors(403, denyMsg);
    const m = found.mount;
    const candidates = m.kvVersion === 2 ? [`${m.path}data/${found.rest}`, `${m.path}metadata/${found.rest}`] : [`${m.path}${found.rest}`];
    const caps: Capability[] = ['read', 'list', 'update', 'create', 'delete'];
    if (!candidates.some((p) => caps.some((c) => this.state.allowed(t, p, c)))) return errors(403, denyMsg);
    return {
      status: 200,
      body: this.#envelope({
        accessor: m.accessor,
        config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
        description: '',
        external_entropy_access: false,
        local: false,
        options: { version: String(m.kvVersion) },
        path: m.path,
        plugin_version: '',
        running_plugin_version: 'v0.16.1+builtin',
        running_sha256: '',
        seal_wrap: false,
        type: 'kv',
        uuid: '00000000-0000-0000-0000-000000000000',
      }),
    };
  }

  // ---- KV --------------------------------------------------------------------------------------

  #kv1(t: Token, req: Req, m: Mount, rest: string): Reply {
    const cap = this.#capFor(req);
    if (!this.state.allowed(t, req.path, cap)) return denied();
    if (cap === 'list') {
      const prefix = rest === '' ? '' : rest + '/';
      const keys = listKeys([...m.v1.keys()], prefix);
      return keys.length === 0 ? errors(404) : { status: 200, body: this.#envelope({ keys }) };
    }
    if (req.method === 'GET') {
      const data = m.v1.get(rest);
      return data ? { status: 200, body: this.#envelope(data, { lease_duration: 2764800 }) } : errors(404);
    }
    if (req.method === 'DELETE') {
      m.v1.delete(rest);
      return { status: 204 };
    }
    if (req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) return errors(400, 'no data provided');
    m.v1.set(rest, req.body as Record<string, unknown>);
    return { status: 204 };
  }

  #kv2(t: Token, req: Req, m: Mount, rest: string): Reply {
    const slash = rest.indexOf('/');
    const op = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? '' : rest.slice(slash + 1);
    const cap = this.#capFor(req);
    if (!this.state.allowed(t, req.path, cap)) return denied();
    const s = m.v2.get(path);
    switch (op) {
      case 'data': {
        if (req.method === 'GET') {
          if (!s) return errors(404);
          const q = req.query.get('version');
          const n = q === null || q === '0' ? s.currentVersion : Number(q);
          if (!Number.isInteger(n) || n < 0) return errors(400, 'invalid version');
          const v = s.versions.get(n);
          if (!v) return errors(404);
          const metadata = { created_time: v.createdTime, custom_metadata: null, deletion_time: v.deletionTime, destroyed: v.destroyed, version: n };
          // Soft-deleted and destroyed versions answer 404 but still carry the envelope (docs).
          if (v.deletionTime !== '' || v.destroyed) return { status: 404, body: this.#envelope({ data: null, metadata }) };
          return { status: 200, body: this.#envelope({ data: v.data, metadata }) };
        }
        if (req.method === 'DELETE') {
          const v = s?.versions.get(s.currentVersion);
          if (v && v.deletionTime === '') v.deletionTime = this.state.clock.iso();
          return { status: 204 };
        }
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (body.data === null || typeof body.data !== 'object' || Array.isArray(body.data)) return errors(400, 'no data provided');
        const version = this.state.putV2(m, path, body.data as Record<string, unknown>);
        return { status: 200, body: this.#envelope({ created_time: this.state.clock.iso(), custom_metadata: null, deletion_time: '', destroyed: false, version }) };
      }
      case 'metadata': {
        if (cap === 'list') {
          const prefix = path === '' ? '' : path + '/';
          const keys = listKeys([...m.v2.keys()], prefix);
          return keys.length === 0 ? errors(404) : { status: 200, body: this.#envelope({ keys }) };
        }
        if (req.method === 'DELETE') {
          m.v2.delete(path);
          return { status: 204 };
        }
        if (!s) return errors(404);
        const versions: Record<string, unknown> = {};
        for (const [n, v] of s.versions) versions[String(n)] = { created_time: v.createdTime, deletion_time: v.deletionTime, destroyed: v.destroyed };
        const nums = [...s.versions.keys()];
        return {
          status: 200,
          body: this.#envelope({
            cas_required: false,
            created_time: s.createdTime,
            current_version: s.currentVersion,
            custom_metadata: null,
            delete_version_after: '0s',
            max_versions: 0,
            oldest_version: nums.length ? Math.min(...nums) : 0,
            updated_time: s.updatedTime,
            versions,
          }),
        };
      }
      case 'delete':
      case 'undelete':
      case 'destroy': {
        const body = (req.body ?? {}) as Record<string, unknown>;
        if (!Array.isArray(body.versions) || body.versions.length === 0) return errors(400, 'no version number provided');
        for (const n of body.versions) {
          const v = s?.versions.get(Number(n));
          if (!v) continue;
          if (op === 'delete' && v.deletionTime === '') v.deletionTime = this.state.clock.iso();
          if (op === 'undelete' && !v.destroyed) v.deletionTime = '';
          if (op === 'destroy') {
            v.destroyed = true;
            v.data = null;
          }
        }
        return { status: 204 };
      }
      default:
        return errors(404, `no handler for route "${req.path}". route entry not found.`);
    }
  }
}

function listKeys(all: string[], prefix: string): string[] {
  const out = new Set<string>();
  for (const k of all) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const i = rest.indexOf('/');
    out.add(i < 0 ? rest : rest.slice(0, i + 1));
  }
  return [...out].sort();
}

/** Decodes a JWT's claims without checking the signature (the emulator trusts its test's tokens). */
export function decodeJwt(jwt: string): Record<string, unknown> | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An unsigned test JWT with the given claims. */
export function makeJwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc(claims)}.`;
}
