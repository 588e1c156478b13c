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

interface Held {
  readonly bytes: Buffer;
  /** When it arrived (Date.now()). */
  readonly at: number;
}

export class StderrSink {
  readonly #logger: Logger;
  readonly #plugin: string;
  readonly #windowMs: number;
  readonly #holdMs: number;
  #pending: Held[] = [];
  #kept = 0;
  #dropped = 0;
  #protected: Protected[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inflight = 0;
  /** Redacted text kept for error messages (last 2 KiB). */
  #tail = '';

  /**
   * `windowMs`: how long text waits for a payload it may echo (and a payload stays in the
   * redaction set). `holdMs`: the longest text is held back while requests stay in flight; at
   * least the request deadline plus the window, so every request that was in flight when the text
   * arrived has finished (and its payload is protected) before the text is logged.
   */
  constructor(logger: Logger, plugin: string, windowMs = 1000, holdMs = 30_000) {
    this.#logger = logger;
    this.#plugin = plugin;
    this.#windowMs = windowMs;
    this.#holdMs = Math.max(holdMs, windowMs);
  }

  get droppedBytes(): number {
    return this.#dropped;
  }

  /** Protected payload copies currently held (tests). */
  get protectedCount(): number {
    return this.#protected.length;
  }

  /**
   * Requests in flight: while any is, text is held back (its response may carry a secret the text
   * echoes), for at most `holdMs`. The cap bounds what is held.
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
      this.#pending.push({ bytes: Buffer.from(chunk.subarray(0, take)), at: Date.now() });
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
      this.#flushDue(Date.now());
      if (this.#pending.length > 0 || this.#protected.length > 0) this.#arm();
    }, this.#windowMs);
    this.#timer.unref();
  }

  /** Logs the text whose wait is over; text arrives in order, so that is a prefix. */
  #flushDue(now: number): void {
    let n = 0;
    for (const h of this.#pending) {
      const age = now - h.at;
      if (age >= this.#holdMs || (this.#inflight === 0 && age >= this.#windowMs)) n++;
      else break;
    }
    this.#emit(n);
    this.#expire(now);
  }

  /** Redacts and logs everything pending; expires protected copies. */
  flush(): void {
    this.#emit(this.#pending.length);
    this.#expire(Date.now());
  }

  #emit(count: number): void {
    if (count === 0) return;
    const held = this.#pending.splice(0, count);
    const len = held.reduce((a, h) => a + h.bytes.length, 0);
    const raw = Buffer.concat(held.map((h) => h.bytes), len);
    for (const h of held) h.bytes.fill(0);
    this.#kept -= len;
    const clean = redact(raw, this.#protected.map((p) => p.bytes));
    if (clean !== raw) raw.fill(0);
    const text = clean.toString('utf8').replace(/\s+$/, '');
    clean.fill(0);
    if (text.length > 0) {
      this.#tail = (this.#tail + '\n' + text).slice(-2048).trim();
      this.#logger.warn({ plugin: this.#plugin, stderr: text }, 'plugin stderr');
    }
  }

  /**
   * Zeroes and drops the copies whose window is over, except those that held text arriving before
   * the window ended may still need for redaction.
   */
  #expire(now: number): void {
    const oldest = this.#pending[0]?.at ?? Infinity;
    this.#protected = this.#protected.filter((p) => {
      if (p.until > now || p.until >= oldest) return true;
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
