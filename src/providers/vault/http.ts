// The HTTP client for Vault's API: one keep-alive agent per provider, optional custom CA and TLS
// server name, an AbortSignal on every request, a cap on response size, and transport failures
// mapped to keyway codes. Status codes are interpreted by the caller (see ./errors.ts).
import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type * as NodeHttp from 'node:http';
import type * as NodeHttps from 'node:https';
import { createRequire } from 'node:module';
import { KeywayError, throwIfAborted, toKeywayError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';

// node:http/https (and TLS under them) load when a Vault provider is created, not with the module:
// every CLI start imports the built-in providers.
const require = createRequire(import.meta.url);
const nodeHttp = (): typeof NodeHttp => require('node:http') as typeof NodeHttp;
const nodeHttps = (): typeof NodeHttps => require('node:https') as typeof NodeHttps;

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
]);

export interface VaultResponse {
  readonly status: number;
  /** Parsed JSON body; undefined for empty or non-JSON bodies. */
  readonly json: unknown;
}

export interface VaultRequestInit {
  readonly token?: SecretValue;
  readonly namespace?: string;
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

export interface HttpOptions {
  readonly address: URL;
  readonly caFile?: string;
  readonly tlsServerName?: string;
  /** Prefix for error messages (`vault provider "NAME"`). */
  readonly where: string;
}

export class VaultHttp {
  readonly #o: HttpOptions;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #https: boolean;

  constructor(o: HttpOptions) {
    this.#o = o;
    this.#https = o.address.protocol === 'https:';
    if (this.#https) {
      let ca: Buffer | undefined;
      if (o.caFile) {
        try {
          ca = readFileSync(o.caFile);
        } catch (e) {
          throw toKeywayError(e, `${o.where}: ca_file`);
        }
      }
      this.#agent = new (nodeHttps().Agent)({ keepAlive: true, ...(ca ? { ca } : {}), ...(o.tlsServerName ? { servername: o.tlsServerName } : {}) });
    } else {
      this.#agent = new (nodeHttp().Agent)({ keepAlive: true });
    }
  }

  /** `apiPath` is the part after /v1/, already percent-encoded per segment. */
  async request(method: string, apiPath: string, init: VaultRequestInit): Promise<VaultResponse> {
    throwIfAborted(init.signal, `${this.#o.where}: request`);
    const base = this.#o.address.pathname.replace(/\/+$/, '');
    const qs = init.query && Object.keys(init.query).length > 0 ? '?' + new URLSearchParams(init.query as Record<string, string>).toString() : '';
    const headers: Record<string, string> = { 'x-vault-request': 'true', accept: 'application/json' };
    if (init.token) headers['x-vault-token'] = init.token.expose().toString('utf8');
    const ns = init.namespace;
    if (ns) headers['x-vault-namespace'] = ns;
    let payload: Buffer | undefined;
    if (init.body !== undefined) {
      payload = Buffer.from(JSON.stringify(init.body), 'utf8');
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const send = this.#https ? nodeHttps().request : nodeHttp().request;
    const where = this.#o.where;
    return new Promise<VaultResponse>((resolve, reject) => {
      const req = send(
        {
          protocol: this.#o.address.protocol,
          hostname: this.#o.address.hostname,
          port: this.#o.address.port || (this.#https ? 443 : 80),
          path: `${base}/v1/${apiPath}${qs}`,
          method,
          headers,
          agent: this.#agent,
          signal: init.signal,
          ...(this.#https && this.#o.tlsServerName ? { servername: this.#o.tlsServerName } : {}),
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              res.destroy(new KeywayError('too_large', `${where}: response larger than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on('error', (e) => reject(mapTransportError(e, init.signal, where)));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            for (const c of chunks) c.fill(0);
            let json: unknown;
            if (body.length > 0) {
              try {
                json = JSON.parse(body.toString('utf8'));
              } catch {
                json = undefined;
              }
            }
            body.fill(0);
            resolve({ status: res.statusCode ?? 0, json });
          });
        },
      );
      req.on('error', (e) => reject(mapTransportError(e, init.signal, where)));
      // The body may be written after end() returns; wipe it only once the request is over.
      req.on('close', () => payload?.fill(0));
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function mapTransportError(e: unknown, signal: AbortSignal, where: string): KeywayError {
  if (e instanceof KeywayError) return e;
  if (signal.aborted) {
    try {
      throwIfAborted(signal, `${where}: request`);
    } catch (k) {
      return k as KeywayError;
    }
  }
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && TLS_VERIFY_CODES.has(code)) {
    return new KeywayError('failed_precondition', `${where}: TLS certificate of the server was not accepted (${code}); set ca_file or tls_server_name`, { cause: e });
  }
  return new KeywayError('unavailable', `${where}: cannot reach Vault (${typeof code === 'string' ? code : 'connection failed'})`, { cause: e });
}
