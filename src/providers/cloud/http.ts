// The one HTTP client of the cloud providers: fetch with the caller's AbortSignal plus a per-request
// timeout, no redirects (a redirect would carry credentials to another host), and transport
// failures mapped to keyway codes. Response bodies stay in Buffers so callers can wipe them.
import { KeywayError } from '../../core/errors.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer | string;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** Names the operation in error messages (`aws-sm prod: GetSecretValue of ...`). */
  readonly what: string;
  /** Largest response body accepted; default MAX_RESPONSE_BYTES. */
  readonly maxBytes?: number;
}

/**
 * Secret managers cap values at 64 KiB (AWS, GCP) or 25 KiB (Azure); a batch of 20 base64 values
 * stays under 2 MiB. Anything far larger is a misbehaving endpoint, refused before it fills memory.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Owned by the caller; may hold secret bytes, so zero it when parsed. */
  readonly body: Buffer;
}

export async function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  abortedError(req.signal, req.what);
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout]);
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers ?? {},
      ...(req.body !== undefined ? { body: req.body } : {}),
      redirect: 'manual',
      signal,
    });
    const body = await readCapped(res, req.maxBytes ?? MAX_RESPONSE_BYTES, req.what);
    if (res.status >= 300 && res.status < 400) {
      body.fill(0);
      throw new KeywayError('unavailable', `${req.what}: the server answered with a redirect (HTTP ${res.status}), which is not followed`);
    }
    return { status: res.status, headers: res.headers, body };
  } catch (e) {
    if (e instanceof KeywayError) throw e;
    abortedError(req.signal, req.what, e);
    if (timeout.aborted) throw new KeywayError('timeout', `${req.what}: no answer within ${req.timeoutMs} ms`, { cause: e });
    const code = (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    const detail = typeof code === 'string' ? ` (${code})` : '';
    throw new KeywayError('unavailable', `${req.what}: cannot reach ${new URL(req.url).origin}${detail}`, { cause: e });
  }
}

async function readCapped(res: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new KeywayError('too_large', `${what}: the response is ${declared} bytes (at most ${max} accepted)`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body) {
    const u = chunk as Uint8Array;
    const b = Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    total += b.length;
    chunks.push(b);
    if (total > max) {
      // Leaving the loop by throwing cancels the stream.
      for (const c of chunks) c.fill(0);
      throw new KeywayError('too_large', `${what}: the response is larger than ${max} bytes`);
    }
  }
  const out = Buffer.concat(chunks, total);
  for (const c of chunks) c.fill(0);
  return out;
}

function abortedError(signal: AbortSignal, what: string, cause?: unknown): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof KeywayError) throw reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') throw new KeywayError('timeout', `${what} timed out`, { cause: cause ?? reason });
  throw new KeywayError('cancelled', `${what} was cancelled`, { cause: cause ?? reason });
}

/** Parses a JSON body and wipes the Buffer. Returns undefined for an empty or non-JSON body. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    if (body.length === 0) return undefined;
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  } finally {
    body.fill(0);
  }
}

/**
 * Decodes text from a backend answer into an unpooled Buffer that a SecretValue can own and wipe
 * completely (Buffer.from would hand out a slice of a shared pool slab).
 */
export function secretBytes(text: string, encoding: 'utf8' | 'base64'): Buffer {
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(text, encoding));
  const n = out.write(text, encoding);
  if (n === out.length) return out;
  const exact = Buffer.allocUnsafeSlow(n);
  out.copy(exact, 0, 0, n);
  out.fill(0);
  return exact;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A short, single-line excerpt of a backend's error message (they quote ids, never values). */
export function backendMessage(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) return '';
  const line = v.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/** Maps an HTTP status with no more specific information to a keyway code. */
export function codeForStatus(status: number): 'unauthenticated' | 'permission_denied' | 'not_found' | 'throttled' | 'unavailable' | 'invalid_argument' | 'timeout' | 'internal' {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 429) return 'throttled';
  if (status === 504 || status === 408) return 'timeout';
  if (status >= 500) return 'unavailable';
  if (status >= 400) return 'invalid_argument';
  return 'internal';
}

/** A cached bearer token, refreshed a minute before it expires. */
export interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export function tokenFresh(t: CachedToken | undefined, now = Date.now()): t is CachedToken {
  return t !== undefined && t.expiresAt - 60_000 > now;
}
