// Minimal frame codec for plugins: a JSON header line (at most 64 KiB) then `size` raw bytes.
const MAX_HEADER = 64 * 1024;

export interface DecodedFrame {
  readonly header: Record<string, unknown>;
  readonly payload: Buffer;
}

export function encodeFrame(header: Record<string, unknown>, payload?: Uint8Array): Buffer[] {
  const size = payload?.length ?? 0;
  const line = Buffer.from(JSON.stringify({ ...header, size }) + '\n');
  return size > 0 && payload ? [line, Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)] : [line];
}

export class FrameDecoder {
  readonly #max: number;
  #head: Buffer[] = [];
  #headLen = 0;
  #body: { header: Record<string, unknown>; buf: Buffer; filled: number } | undefined;

  constructor(maxPayloadBytes: number) {
    this.#max = maxPayloadBytes;
  }

  push(chunk: Buffer): DecodedFrame[] {
    const out: DecodedFrame[] = [];
    let off = 0;
    while (off < chunk.length) {
      if (this.#body) {
        const b = this.#body;
        const n = Math.min(b.buf.length - b.filled, chunk.length - off);
        chunk.copy(b.buf, b.filled, off, off + n);
        b.filled += n;
        off += n;
        if (b.filled === b.buf.length) {
          out.push({ header: b.header, payload: b.buf });
          this.#body = undefined;
        }
        continue;
      }
      const nl = chunk.indexOf(10, off);
      const end = nl < 0 ? chunk.length : nl;
      if (this.#headLen + (end - off) >= MAX_HEADER) throw new Error('frame header over 64 KiB');
      this.#head.push(chunk.subarray(off, end));
      this.#headLen += end - off;
      if (nl < 0) break;
      off = nl + 1;
      const header: unknown = JSON.parse(Buffer.concat(this.#head).toString('utf8'));
      this.#head = [];
      this.#headLen = 0;
      if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('frame header is not an object');
      const h = header as Record<string, unknown>;
      const size = h.size ?? 0;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > this.#max) throw new Error('frame size is invalid');
      if (size === 0) out.push({ header: h, payload: Buffer.alloc(0) });
      else this.#body = { header: h, buf: Buffer.allocUnsafeSlow(size), filled: 0 };
    }
    return out;
  }
}
