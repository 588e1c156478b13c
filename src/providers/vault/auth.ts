// Vault tokens: obtained by the configured method (static token, token file, AppRole, Kubernetes,
// JWT), renewed at 2/3 of their TTL (on use, and by an unref'd timer so idle daemons keep them),
// and replaced once when Vault rejects them. Kubernetes and JWT logins use the workload's own
// service account token (CSI `serviceAccount.tokens`, audience "vault" by default) when the request
// carries one, so each workload gets its own Vault token and policies.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { KeywayError, isTransient, throwIfAborted, toKeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { WorkloadIdentity } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import type { VaultSettings } from './config.js';
import { vaultError, vaultText } from './errors.js';
import type { VaultHttp, VaultResponse } from './http.js';

const EXPIRY_SKEW_MS = 2_000;
const MAX_SESSIONS = 256;
const RENEW_TIMEOUT_MS = 10_000;
const LOGIN_TIMEOUT_MS = 30_000;

interface Session {
  readonly token: SecretValue;
  /** Obtained by a login (and so replaceable by logging in again). */
  readonly login: boolean;
  /** Hash of the token file's content this token came from. */
  readonly fileHash?: string;
  renewable: boolean;
  expiresAt: number; // ms on the provider clock; Infinity when unknown or non-expiring
  renewAt: number;
  timer?: NodeJS.Timeout;
}

export interface AuthDeps {
  readonly http: VaultHttp;
  readonly settings: VaultSettings;
  readonly where: string;
  readonly now: () => number;
  readonly logger: Logger;
}

/** What to do after Vault answered 403 with a token from this class. */
export type Recovery = 'retry' | 'denied';

export class VaultAuth {
  readonly #d: AuthDeps;
  readonly #sessions = new Map<string, Session>();
  readonly #pending = new Map<string, Promise<Session>>();
  #closed = false;

  constructor(d: AuthDeps) {
    this.#d = d;
  }

  get method(): string {
    return this.#d.settings.auth.method;
  }

  /** The token to use now. The caller must not keep or zero it. */
  async token(identity: WorkloadIdentity | undefined, signal: AbortSignal): Promise<SecretValue> {
    const key = this.#keyFor(identity);
    const s = this.#sessions.get(key);
    const now = this.#d.now();
    if (s && s.expiresAt - EXPIRY_SKEW_MS > now) {
      if (s.renewable && now >= s.renewAt) await this.#renew(key, s, signal);
      const cur = this.#sessions.get(key);
      if (cur) return cur.token;
    } else if (s) {
      this.#drop(key, s);
    }
    return (await this.#obtainOnce(key, identity, signal)).token;
  }

  /**
   * Called after a 403. Checks the token with lookup-self: a valid token means the policies deny
   * the request ('denied'); an invalid one is replaced by logging in again or re-reading the token
   * file ('retry'), or reported as unauthenticated when nothing can replace it.
   */
  async recover(identity: WorkloadIdentity | undefined, rejected: SecretValue, signal: AbortSignal): Promise<Recovery> {
    const key = this.#keyFor(identity);
    const s = this.#sessions.get(key);
    if (!s || s.token !== rejected) return 'retry'; // someone already replaced it
    const res = await this.#d.http.request('GET', 'auth/token/lookup-self', { token: rejected, signal, ...this.#ns() });
    if (res.status === 200) return 'denied';
    if (res.status !== 403 && res.status !== 401) throw vaultError(this.#d.where, 'token lookup', res);
    this.#drop(key, s);
    if (s.login) return 'retry';
    const auth = this.#d.settings.auth;
    if (auth.method === 'token' && auth.token_file) {
      const fresh = this.#readTokenFile(auth.token_file);
      const hash = sha256(fresh.expose());
      fresh.zero();
      if (hash !== s.fileHash) return 'retry';
      throw new KeywayError('unauthenticated', `${this.#d.where}: the token in ${auth.token_file} was rejected by Vault (expired or revoked)`);
    }
    throw new KeywayError('unauthenticated', `${this.#d.where}: the token was rejected by Vault (expired or revoked); provide a new one`);
  }

  close(): void {
    this.#closed = true;
    for (const [key, s] of this.#sessions) this.#drop(key, s, true);
  }

  // ---- internals -------------------------------------------------------------------------------

  #ns(): { namespace?: string } {
    return this.#d.settings.namespace ? { namespace: this.#d.settings.namespace } : {};
  }

  #workloadJwt(identity: WorkloadIdentity | undefined): SecretValue | undefined {
    const auth = this.#d.settings.auth;
    if (auth.method !== 'kubernetes' && auth.method !== 'jwt') return undefined;
    return identity?.tokens?.get(auth.audience)?.token;
  }

  #keyFor(identity: WorkloadIdentity | undefined): string {
    if (!this.#workloadJwt(identity)) return 'default';
    const p = identity?.pod;
    return `workload:${p?.namespace ?? ''}/${p?.serviceAccount ?? ''}/${p?.uid ?? ''}#${this.#role(identity) ?? ''}`;
  }

  /**
   * The role to log in as. A workload may pick one (CSI `providerParams: {role: ...}`) only when it
   * logs in with its own token: Vault then checks that role against the workload's identity, so the
   * choice cannot widen access. Logins with the daemon's own jwt_file always use the configured role.
   */
  #role(identity: WorkloadIdentity | undefined): string | undefined {
    const auth = this.#d.settings.auth;
    if (auth.method !== 'kubernetes' && auth.method !== 'jwt') return undefined;
    const asked = identity?.params?.role;
    return this.#workloadJwt(identity) && asked ? asked : auth.role;
  }

  #drop(key: string, s: Session, zero = false): void {
    if (s.timer) clearTimeout(s.timer);
    if (this.#sessions.get(key) === s) this.#sessions.delete(key);
    // A replaced token may still be in use by a request in flight, so it is only wiped at close.
    if (zero) s.token.zero();
  }

  async #obtainOnce(key: string, identity: WorkloadIdentity | undefined, signal: AbortSignal): Promise<Session> {
    let p = this.#pending.get(key);
    if (!p) {
      // The login is shared by every request waiting for it, so it runs on its own deadline;
      // each caller stops waiting when its own signal fires.
      p = this.#obtain(identity, AbortSignal.timeout(LOGIN_TIMEOUT_MS)).finally(() => this.#pending.delete(key));
      this.#pending.set(key, p);
    }
    const s = await untilAborted(p, signal, this.#d.where);
    if (this.#closed) throw new KeywayError('cancelled', `${this.#d.where}: provider closed`);
    if (this.#sessions.get(key) !== s) {
      const old = this.#sessions.get(key);
      if (old) this.#drop(key, old);
      this.#sessions.set(key, s);
      if (this.#sessions.size > MAX_SESSIONS) {
        const [oldestKey, oldest] = this.#sessions.entries().next().value as [string, Session];
        this.#drop(oldestKey, oldest);
      }
      this.#schedule(key, s);
    }
    return s;
  }

  async #obtain(identity: WorkloadIdentity | undefined, signal: AbortSignal): Promise<Session> {
    const auth = this.#d.settings.auth;
    const where = this.#d.where;
    switch (auth.method) {
      case 'env-token':
      case 'token': {
        let token: SecretValue;
        let fileHash: string | undefined;
        if (auth.method === 'token' && auth.token_file) {
          token = this.#readTokenFile(auth.token_file);
          fileHash = sha256(token.expose());
        } else if (this.#d.settings.envToken) {
          token = SecretValue.fromString(this.#d.settings.envToken);
        } else {
          throw new KeywayError('unauthenticated', `${where}: no Vault token (set [providers.NAME.auth] or VAULT_TOKEN)`);
        }
        return this.#describeStatic(token, fileHash, signal);
      }
      case 'approle': {
        const roleId = auth.role_id ?? (auth.role_id_file ? this.#readText(auth.role_id_file, 'role_id_file') : undefined);
        if (!roleId) throw new KeywayError('failed_precondition', `${where}: approle auth needs role_id or role_id_file`);
        const body: Record<string, string> = { role_id: roleId };
        if (auth.secret_id_file) body.secret_id = this.#readText(auth.secret_id_file, 'secret_id_file');
        return this.#login(auth.mount, body, signal);
      }
      case 'kubernetes':
      case 'jwt': {
        const jwt = this.#workloadJwt(identity)?.expose().toString('utf8') ?? (auth.jwt_file ? this.#readText(auth.jwt_file, 'jwt_file') : undefined);
        if (!jwt) throw new KeywayError('unauthenticated', `${where}: jwt auth needs a workload token with audience "${auth.audience}" or jwt_file`);
        return this.#login(auth.mount, { role: this.#role(identity) ?? auth.role, jwt }, signal);
      }
    }
  }

  #readText(path: string, option: string): string {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (e) {
      throw toKeywayError(e, `${this.#d.where}: ${option}`);
    }
  }

  #readTokenFile(path: string): SecretValue {
    let raw: Buffer;
    try {
      raw = readFileSync(path);
    } catch (e) {
      throw toKeywayError(e, `${this.#d.where}: token_file`);
    }
    let end = raw.length;
    while (end > 0 && (raw[end - 1] === 0x0a || raw[end - 1] === 0x0d || raw[end - 1] === 0x20)) end--;
    const token = SecretValue.copyOf(raw.subarray(0, end));
    raw.fill(0);
    if (token.length === 0) throw new KeywayError('unauthenticated', `${this.#d.where}: token_file ${path} is empty`);
    return token;
  }

  /** A static token: ask Vault for its TTL so renewal can be scheduled. */
  async #describeStatic(token: SecretValue, fileHash: string | undefined, signal: AbortSignal): Promise<Session> {
    const res = await this.#d.http.request('GET', 'auth/token/lookup-self', { token, signal, ...this.#ns() });
    const base = { token, login: false, ...(fileHash ? { fileHash } : {}) };
    if (res.status !== 200) {
      // 403 here can also mean the default policy was trimmed; the real request will tell.
      if (res.status === 403) return { ...base, renewable: false, expiresAt: Infinity, renewAt: Infinity };
      throw vaultError(this.#d.where, 'token lookup', res);
    }
    const data = (res.json as { data?: { ttl?: unknown; renewable?: unknown } }).data ?? {};
    const ttl = typeof data.ttl === 'number' ? data.ttl : 0;
    return { ...base, ...this.#timing(ttl, data.renewable === true) };
  }

  async #login(mount: string, body: Record<string, string>, signal: AbortSignal): Promise<Session> {
    const res = await this.#d.http.request('POST', `auth/${mount.split('/').map(encodeURIComponent).join('/')}/login`, { body, signal, ...this.#ns() });
    if (res.status !== 200) {
      if (res.status === 400 || res.status === 401 || res.status === 403) {
        const text = vaultText(res, 160);
        throw new KeywayError('unauthenticated', `${this.#d.where}: login at auth/${mount} was refused (HTTP ${res.status}${text ? `: ${text}` : ''})`);
      }
      throw vaultError(this.#d.where, `login at auth/${mount}`, res);
    }
    const a = (res.json as { auth?: { client_token?: unknown; lease_duration?: unknown; renewable?: unknown } }).auth;
    if (!a || typeof a.client_token !== 'string' || a.client_token.length === 0) throw new KeywayError('internal', `${this.#d.where}: login at auth/${mount} returned no token`);
    const ttl = typeof a.lease_duration === 'number' ? a.lease_duration : 0;
    return { token: SecretValue.fromString(a.client_token), login: true, ...this.#timing(ttl, a.renewable === true) };
  }

  #timing(ttlSeconds: number, renewable: boolean): Pick<Session, 'renewable' | 'expiresAt' | 'renewAt'> {
    const now = this.#d.now();
    if (ttlSeconds <= 0) return { renewable: false, expiresAt: Infinity, renewAt: Infinity };
    return { renewable, expiresAt: now + ttlSeconds * 1000, renewAt: now + (ttlSeconds * 1000 * 2) / 3 };
  }

  async #renew(key: string, s: Session, signal: AbortSignal): Promise<void> {
    let res: VaultResponse;
    try {
      res = await this.#d.http.request('POST', 'auth/token/renew-self', { token: s.token, body: {}, signal, ...this.#ns() });
    } catch (e) {
      // The token is still valid: a failed renewal must not fail the request that noticed it.
      if (isTransient(e)) return;
      throw e;
    }
    if (res.status === 200) {
      const a = (res.json as { auth?: { lease_duration?: unknown; renewable?: unknown } }).auth ?? {};
      const ttl = typeof a.lease_duration === 'number' ? a.lease_duration : 0;
      Object.assign(s, this.#timing(ttl, a.renewable === true));
      // Near the max TTL Vault grants less than asked; a login token is then replaced before it dies.
      if (s.login && ttl > 0 && ttl < 10) s.expiresAt = this.#d.now();
      this.#schedule(key, s);
      this.#d.logger.debug({ provider: this.#d.where, ttl }, 'vault token renewed');
      return;
    }
    if (res.status === 429 || res.status >= 500) return;
    // Not renewable (any more): a login token is replaced now, a static one is used until it expires.
    s.renewable = false;
    s.renewAt = Infinity;
    if (s.login) this.#drop(key, s);
    this.#d.logger.warn({ provider: this.#d.where, status: res.status }, 'vault token renewal refused');
  }

  #schedule(key: string, s: Session): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    if (!s.renewable || !Number.isFinite(s.renewAt) || this.#closed) return;
    const delay = Math.max(1_000, s.renewAt - this.#d.now());
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (this.#sessions.get(key) !== s) return;
      this.#renew(key, s, AbortSignal.timeout(RENEW_TIMEOUT_MS)).catch((e: unknown) => {
        this.#d.logger.warn({ provider: this.#d.where, code: toKeywayError(e).code }, 'vault token renewal failed');
      });
    }, Math.min(delay, 2 ** 31 - 1));
    s.timer.unref();
  }
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Waits for `p`, or rejects as soon as `signal` fires (the work behind `p` carries on). */
async function untilAborted<T>(p: Promise<T>, signal: AbortSignal, where: string): Promise<T> {
  throwIfAborted(signal, `${where}: login`);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      try {
        throwIfAborted(signal, `${where}: login`);
      } catch (e) {
        reject(e);
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
