// Captures a plugin's stderr with a byte cap and redacts secret payloads from it before anything
// is logged. Text is held back and flushed only after redaction against every payload exchanged
// recently: a plugin's stderr and stdout are separate pipes, so a line echoing a secret can arrive
// after the response that carried it. Protected payload copies live in unpooled buffers and are
// zeroed when their window ends.
import type { Logger } from '../../core/logger.js';

export const STDERR_CAP = 64 * 1024;
const REDACTED = Buffer.from('[redacted]');

interface Protected {
  readonly bytes: Buffer;
  readonly until: number;
}

/** Replaces every occurrence of `needle` in `hay` (needles shorter than 4 bytes are skipped: too many false hits). */
export function redact(hay: Buffer, needles: readonly Buffer[]): Buffer {
  let out = hay;
  for (const n of needles) {
    if (n.length < 4) continue;
    let i = out.indexOf(n);
    if (i < 0) continue;
    const parts: Buffer[] = [];
    let start = 0;
    while (i >= 0) {
      parts.push(out.subarray(start, i), REDACTED);
      start = i + n.length;
      i = out.indexOf(n, start);
    }
    parts.push(out.subarray(start));
    const next = Buffer.concat(parts);
    if (out !== hay) out.fill(0);
    out = next;
  }
  return out;
}

export class StderrSink {
  readonly #logger: Logger;
  readonly #plugin: string;
  readonly #windowMs: number;
  #pending: Buffer[] = [];
  #pendingLen = 0;
  #kept = 0;
  #dropped = 0;
  #protected: Protected[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inflight = 0;
  /** Redacted text kept for error messages (last 2 KiB). */
  #tail = '';

  constructor(logger: Logger, plugin: string, windowMs = 1000) {
    this.#logger = logger;
    this.#plugin = plugin;
    this.#windowMs = windowMs;
  }

  get droppedBytes(): number {
    return this.#dropped;
  }

  /**
   * Requests in flight: while any is, text is held back (its response may carry a secret the text
   * echoes). The cap bounds what is held.
   */
  begin(): void {
    this.#inflight++;
  }

  end(): void {
    this.#inflight = Math.max(0, this.#inflight - 1);
  }

  /** A copy of `bytes` is kept for the redaction window. */
  protect(bytes: Uint8Array): void {
    if (bytes.length < 4) return;
    const copy = Buffer.allocUnsafeSlow(bytes.length);
    copy.set(bytes);
    this.#protected.push({ bytes: copy, until: Date.now() + this.#windowMs });
    this.#arm();
  }

  write(chunk: Buffer): void {
    const room = STDERR_CAP - this.#kept;
    const take = Math.max(0, Math.min(room, chunk.length));
    if (take > 0) {
      this.#pending.push(Buffer.from(chunk.subarray(0, take)));
      this.#pendingLen += take;
      this.#kept += take;
    }
    this.#dropped += chunk.length - take;
    chunk.fill(0);
    this.#arm();
  }

  /** The last redacted stderr text, for error messages (flushes first). */
  tail(): string {
    this.flush();
    return this.#tail;
  }

  #arm(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#inflight === 0) this.flush();
      if (this.#pending.length > 0 || this.#protected.length > 0) this.#arm();
    }, this.#windowMs);
    this.#timer.unref();
  }

  /** Redacts and logs what is pending; expires protected copies. */
  flush(): void {
    const now = Date.now();
    if (this.#pendingLen > 0) {
      const raw = Buffer.concat(this.#pending, this.#pendingLen);
      for (const p of this.#pending) p.fill(0);
      this.#pending = [];
      this.#pendingLen = 0;
      this.#kept = 0;
      const clean = redact(raw, this.#protected.map((p) => p.bytes));
      if (clean !== raw) raw.fill(0);
      const text = clean.toString('utf8').replace(/\s+$/, '');
      clean.fill(0);
      if (text.length > 0) {
        this.#tail = (this.#tail + '\n' + text).slice(-2048).trim();
        this.#logger.warn({ plugin: this.#plugin, stderr: text }, 'plugin stderr');
      }
    }
    this.#protected = this.#protected.filter((p) => {
      if (p.until > now) return true;
      p.bytes.fill(0);
      return false;
    });
  }

  /** Final flush at process exit; reports dropped bytes; wipes protected copies. */
  close(): void {
    this.flush();
    for (const p of this.#protected) p.bytes.fill(0);
    this.#protected = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#dropped > 0) this.#logger.warn({ plugin: this.#plugin, droppedBytes: this.#dropped }, 'plugin stderr over the cap was dropped');
  }
}
