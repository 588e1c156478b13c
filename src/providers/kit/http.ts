// The one HTTP transport of the built-in providers (Vault and the cloud secret managers): node's
// http/https with the caller's AbortSignal plus an optional per-request timeout, no redirects (a
// redirect would carry credentials to another host), a cap on the response size, and transport
// failures mapped to keyway codes. Bodies stay in Buffers so callers can wipe them. Statuses are
// the caller's to interpret, with ./status.ts.
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import type * as NodeHttp from 'node:http';
import type * as NodeHttps from 'node:https';
import { createRequire } from 'node:module';
import { abortedError, KeywayError, throwIfAborted } from '../../core/errors.js';

// node:http/https (and TLS under them) load on the first request, not with the module: every CLI
// start imports the built-in providers.
const require = createRequire(import.meta.url);
const nodeHttp = (): typeof NodeHttp => require('node:http') as typeof NodeHttp;
const nodeHttps = (): typeof NodeHttps => require('node:https') as typeof NodeHttps;

export interface HttpRequest {
  readonly method: string;
  readonly url: string | URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  readonly signal: AbortSignal;
  /** Per-request deadline on top of the caller's signal; none when left out. */
  readonly timeoutMs?: number;
  /** Names the operation in error messages (`aws-sm provider "prod": GetSecretValue of ...`). */
  readonly what: string;
  /** Largest response body accepted; default MAX_RESPONSE_BYTES. */
  readonly maxBytes?: number;
  /** A client's own agent (keep-alive pool, custom CA); default node's global agent. */
  readonly agent?: HttpAgent | HttpsAgent;
  /** TLS server name to verify instead of the URL's host. */
  readonly servername?: string;
  /** Appended to the message when the server's TLS certificate is refused (`set ca_file`). */
  readonly tlsHint?: string;
}

/**
 * Secret managers cap values at 64 KiB (AWS, GCP) or 25 KiB (Azure), Vault at a few MiB by
 * default; anything far larger is a misbehaving endpoint, refused before it fills memory.
 */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface HttpResponse {
  readonly status: number;
  /**
   * A response header by name, any case; repeated headers joined with ", " as fetch's Headers does.
   * Not a Headers object: the global one loads undici (several MiB) on first touch.
   */
  readonly header: (name: string) => string | undefined;
  /** Owned by the caller; may hold secret bytes, so zero it when parsed. */
  readonly body: Buffer;
}

const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
]);

/** A keep-alive agent for one client, with its own CA bundle and TLS server name when given. */
export function httpAgent(https: boolean, tls: { readonly ca?: Buffer; readonly servername?: string } = {}): HttpAgent | HttpsAgent {
  if (!https) return new (nodeHttp().Agent)({ keepAlive: true });
  return new (nodeHttps().Agent)({ keepAlive: true, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.servername ? { servername: tls.servername } : {}) });
}

export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  throwIfAborted(req.signal, req.what);
  const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
  const https = url.protocol === 'https:';
  const timeout = req.timeoutMs !== undefined ? AbortSignal.timeout(req.timeoutMs) : undefined;
  const signal = timeout ? AbortSignal.any([req.signal, timeout]) : req.signal;
  const max = req.maxBytes ?? MAX_RESPONSE_BYTES;
  const payload = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body, 'utf8');
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  if (payload) headers['content-length'] = String(payload.length);
  const send = https ? nodeHttps().request : nodeHttp().request;
  const fail = (e: unknown): KeywayError => transportError(e, req, url, timeout);
  return new Promise<HttpResponse>((resolve, reject) => {
    const r = send(
      url,
      { method: req.method, headers, signal, ...(req.agent ? { agent: req.agent } : {}), ...(https && req.servername ? { servername: req.servername } : {}) },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          // Refused on the head: the body of a redirect is never read.
          res.destroy();
          reject(new KeywayError('unavailable', `${req.what}: the server answered with a redirect (HTTP ${status}), which is not followed`));
          return;
        }
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > max) {
          res.destroy();
          reject(new KeywayError('too_large', `${req.what}: the response is ${declared} bytes (at most ${max} accepted)`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        // A body cut short (abort, timeout, reset) may hold secret bytes too: 'close' comes on every way out.
        const wipe = (): void => {
          for (const c of chunks) c.fill(0);
        };
        res.on('data', (c: Buffer) => {
          size += c.length;
          chunks.push(c);
          if (size > max) {
            wipe();
            res.destroy(new KeywayError('too_large', `${req.what}: the response is larger than ${max} bytes`));
          }
        });
        res.on('error', (e) => reject(fail(e)));
        res.on('close', wipe);
        res.on('end', () => {
          const body = Buffer.concat(chunks, size);
          wipe();
          resolve({ status, header: headerReader(res.headers), body });
        });
      },
    );
    r.on('error', (e) => reject(fail(e)));
    // The body may be written after end() returns; it is the caller's to wipe once this settles.
    r.end(payload);
  });
}

function headerReader(raw: IncomingMessage['headers']): HttpResponse['header'] {
  // node lower-cases the names it received and already joins most repeated ones; set-cookie stays a list.
  return (name) => {
    const key = name.toLowerCase();
    const v = Object.hasOwn(raw, key) ? raw[key] : undefined;
    return Array.isArray(v) ? v.join(', ') : v;
  };
}

function transportError(e: unknown, req: HttpRequest, url: URL, timeout: AbortSignal | undefined): KeywayError {
  if (e instanceof KeywayError) return e;
  if (req.signal.aborted) return abortedError(req.signal, req.what);
  if (timeout?.aborted) return new KeywayError('timeout', `${req.what}: no answer within ${req.timeoutMs} ms`, { cause: e });
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && TLS_VERIFY_CODES.has(code)) {
    return new KeywayError('failed_precondition', `${req.what}: TLS certificate of the server was not accepted (${code})${req.tlsHint ? `; ${req.tlsHint}` : ''}`, { cause: e });
  }
  return new KeywayError('unavailable', `${req.what}: cannot reach ${url.origin}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: e });
}
