// Human-readable log lines for a terminal: the logger still builds (and redacts) each JSON record,
// and this rewrites it as `HH:MM:SS.mmm LEVEL message key=value ...` before it reaches stderr.
// A record that does not parse is passed through unchanged, so nothing is ever lost.
import { writeSync } from 'node:fs';
import { oneLine } from './one-line.js';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One JSON log record → one text line (with its newline). */
export function formatRecord(line: string): string {
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return `${line}\n`;
    rec = parsed as Record<string, unknown>;
  } catch {
    return `${line}\n`;
  }
  const time = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '--:--:--.---';
  const level = (typeof rec.level === 'number' ? LEVEL_NAMES[rec.level] : undefined) ?? String(rec.level);
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${formatValue(v)}`);
  // Fields are JSON-quoted above; the message is printed bare, so it is folded like quoted text.
  const msg = typeof rec.msg === 'string' ? oneLine(rec.msg) : '';
  return `${time} ${level.padEnd(5)} ${[msg, ...fields].filter((s) => s.length > 0).join(' ')}\n`;
}

/** Writes all of `text` to `fd`, waiting out EAGAIN (a terminal fd may be non-blocking). */
export function writeFully(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
