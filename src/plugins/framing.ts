// Frame codec of the plugin protocol (docs/plugin-protocol.md): one line of JSON (the header, at
// most 64 KiB with its newline) then exactly `size` raw payload bytes. The reader is incremental and
// total: any byte sequence yields frames or a KeywayError, never another exception. Payloads land in
// unpooled buffers the caller owns, and consumed input chunks are wiped so secret bytes are not left
// behind in stream buffers.
import { KeywayError } from '../core/errors.js';

export const MAX_HEADER_BYTES = 64 * 1024;
const NL = 0x0a;

export type FrameHeader = Record<string, unknown>;

export interface Frame {
  readonly header: FrameHeader;
  /** Owned by the receiver; zero it when done. Empty for size 0. */
  readonly payload: Buffer;
}

export interface FrameLimits {
  readonly maxHeaderBytes?: number;
  readonly maxPayloadBytes: number;
}

function protocolError(message: string): KeywayError {
  return new KeywayError('invalid_argument', message);
}

/** Serializes a header to its wire line. Throws too_large past the header limit. */
export function encodeHeader(header: FrameHeader, maxHeaderBytes = MAX_HEADER_BYTES): Buffer {
  const line = Buffer.from(JSON.stringify(header) + '\n', 'utf8');
  if (line.length > maxHeaderBytes) throw new KeywayError('too_large', `frame header is ${line.length} bytes (at most ${maxHeaderBytes})`);
  return line;
}

/** Parses one header line (without the newline). */
export function parseHeader(line: Buffer, maxPayloadBytes: number): { header: FrameHeader; size: number } {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    throw protocolError(`frame header is not valid JSON (${line.length} bytes)`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocolError('frame header is not a JSON object');
  const header = value as FrameHeader;
  const size = header.size ?? 0;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw protocolError('frame header "size" is not a non-negative integer');
  if (size > maxPayloadBytes) throw new KeywayError('too_large', `frame payload of ${size} bytes exceeds the limit of ${maxPayloadBytes}`);
  return { header, size };
}

export class FrameReader {
  readonly #maxHeader: number;
  readonly #maxPayload: number;
  #headerParts: Buffer[] = [];
  #headerLen = 0;
  #pending: { header: FrameHeader; payload: Buffer; filled: number } | undefined;
  #failed: KeywayError | undefined;

  constructor(limits: FrameLimits) {
    this.#maxHeader = limits.maxHeaderBytes ?? MAX_HEADER_BYTES;
    this.#maxPayload = limits.maxPayloadBytes;
  }

  /** True when some bytes of an unfinished frame are buffered. */
  get midFrame(): boolean {
    return this.#headerLen > 0 || this.#pending !== undefined;
  }

  /**
   * Consumes a chunk and returns the frames it completed. After an error the reader stays failed.
   * With `wipe`, the chunk is zeroed once consumed (it may hold secret bytes).
   */
  push(chunk: Uint8Array, wipe = false): Frame[] {
    if (this.#failed) throw this.#failed;
    try {
      return this.#consume(chunk);
    } catch (e) {
      this.#failed = e instanceof KeywayError ? e : new KeywayError('internal', 'frame reader failed', { cause: e });
      this.#release();
      throw this.#failed;
    } finally {
      if (wipe) chunk.fill(0);
    }
  }

  /** Drops buffered bytes (zeroing a partial payload). */
  reset(): void {
    this.#release();
    this.#failed = undefined;
  }

  #release(): void {
    this.#pending?.payload.fill(0);
    this.#pending = undefined;
    this.#headerParts = [];
    this.#headerLen = 0;
  }

  #consume(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.#pending) {
        const p = this.#pending;
        const take = Math.min(p.payload.length - p.filled, chunk.length - off);
        p.payload.set(chunk.subarray(off, off + take), p.filled);
        p.filled += take;
        off += take;
        if (p.filled === p.payload.length) {
          frames.push({ header: p.header, payload: p.payload });
          this.#pending = undefined;
        }
        continue;
      }
      const nl = chunk.indexOf(NL, off);
      const end = nl < 0 ? chunk.length : nl;
      const piece = end - off;
      if (this.#headerLen + piece + (nl < 0 ? 0 : 1) > this.#maxHeader) {
        throw new KeywayError('too_large', `frame header exceeds ${this.#maxHeader} bytes`);
      }
      this.#headerParts.push(Buffer.from(chunk.subarray(off, end)));
      this.#headerLen += piece;
      if (nl < 0) break;
      off = nl + 1;
      const line = Buffer.concat(this.#headerParts, this.#headerLen);
      this.#headerParts = [];
      this.#headerLen = 0;
      const { header, size } = parseHeader(line, this.#maxPayload);
      if (size === 0) frames.push({ header, payload: Buffer.alloc(0) });
      else this.#pending = { header, payload: Buffer.allocUnsafeSlow(size), filled: 0 };
    }
    return frames;
  }
}
