// Reading backend answers without leaking them: JSON bodies parsed and wiped, secret text decoded
// into buffers a SecretValue can own, and backend error messages shortened to one line.
import { oneLine } from '../../core/one-line.js';

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
  const line = oneLine(v).trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/** A cached bearer token, refreshed a minute before it expires. */
export interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

export function tokenFresh(t: CachedToken | undefined, now = Date.now()): t is CachedToken {
  return t !== undefined && t.expiresAt - 60_000 > now;
}
