// Structured logs to stderr: one JSON object per line, pino's record format
// (`{"level":30,"time":…,"pid":…,…fields,"msg":"…"}`), or the same record as a text line on a
// terminal. Secret material never reaches a log call by construction (SecretValue prints as
// redacted); the redaction below is a second line of defence for fields that carry credentials by
// name. A few dozen lines rather than pino: the daemon logs rarely and synchronously, and pino's
// module graph cost several MiB of resident memory in a process that is otherwise idle.
import { formatRecord, writeFully } from './log-text.js';

const isatty = (fd: number): boolean => process.getBuiltinModule('node:tty').isatty(fd);

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
/** `auto`: text lines when the destination fd is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'text', 'json'];

export interface LogFn {
  (fields: object, msg?: string): void;
  (msg: string): void;
}

export interface Logger {
  readonly level: LogLevel;
  isLevelEnabled(level: LogLevel): boolean;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger that adds `bindings` to every record. */
  child(bindings: Record<string, unknown>): Logger;
}

/** Field names censored at the top level and one level down (`req.token`); in `headers`, also x-vault-token. */
const REDACTED: ReadonlySet<string> = new Set(['value', 'token', 'tokens', 'password', 'secret_id', 'authorization', 'payload', 'contents', 'secrets']);
const HEADER_REDACTED: ReadonlySet<string> = new Set([...REDACTED, 'x-vault-token']);
const CENSOR = '[redacted]';

const RANK: Readonly<Record<LogLevel, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const METHODS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

// An Error is written as its type, message, stack and codes only (errorFields below), so its own
// fields need no censoring, and copying it to censor them would lose the message.
const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Buffer.isBuffer(v) && !(v instanceof Error);

/** A copy of `child` with the named fields censored (arrays keep their shape). */
function censorChild(child: unknown, names: ReadonlySet<string>): unknown {
  if (!isPlainObject(child)) return child;
  let copy: Record<string, unknown> | unknown[] | undefined;
  for (const k of Object.keys(child)) {
    if (!names.has(k) || child[k] === undefined) continue;
    copy ??= Array.isArray(child) ? [...(child as unknown[])] : { ...child };
    (copy as Record<string, unknown>)[k] = CENSOR;
  }
  return copy ?? child;
}

/** The record's fields with REDACTED applied; the caller's objects are never modified. */
function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = REDACTED.has(k) && v !== undefined ? CENSOR : censorChild(v, k === 'headers' ? HEADER_REDACTED : REDACTED);
  return out;
}

/**
 * An Error as a record field: its type, message and stack, and the codes that say what failed
 * (keyway's error code; errno, code and syscall of a system error). Not its other own fields, which
 * may hold a request's credentials, nor its cause, whose message may quote what failed to parse.
 */
function errorFields(e: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: e.name, message: e.message, stack: e.stack };
  const { code, errno, syscall } = e as Error & Record<string, unknown>;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof errno === 'number') out.errno = errno;
  if (typeof syscall === 'string') out.syscall = syscall;
  return out;
}

/** JSON.stringify with errors as errorFields, bigints as numbers' text, cycles cut (a throwing toJSON or getter still throws). */
function stringify(record: Record<string, unknown>): string {
  // The objects from the record down to the value being written: only one of them is a cycle; an
  // object that merely appears under two fields is written twice, as JSON.stringify would.
  const path: object[] = [];
  return JSON.stringify(record, function (this: unknown, _k, v: unknown) {
    while (path.length > 0 && path[path.length - 1] !== this) path.pop();
    if (typeof v === 'bigint') return v.toString();
    const out = v instanceof Error ? errorFields(v) : v;
    if (out !== null && typeof out === 'object') {
      if (path.includes(out)) return '[Circular]';
      path.push(out);
    }
    return out;
  });
}

type Sink = (line: string) => void;

function makeLogger(level: LogLevel, sink: Sink, bindings: Record<string, unknown>): Logger {
  const min = RANK[level];
  const logger: Logger = {
    level,
    isLevelEnabled: (l) => RANK[l] >= min && level !== 'silent',
    child: (more) => makeLogger(level, sink, { ...bindings, ...redact(more) }),
  } as Logger;
  for (const name of METHODS) {
    const rank = RANK[name];
    (logger as unknown as Record<string, LogFn>)[name] =
      rank < min
        ? () => undefined
        : (a: object | string, msg?: string) => {
            const text = typeof a === 'string' ? a : (msg ?? (a instanceof Error ? a.message : undefined));
            const head = { level: rank, time: Date.now(), pid: process.pid };
            let line: string;
            try {
              const fields = typeof a === 'string' ? {} : a instanceof Error ? { err: a } : redact(a as Record<string, unknown>);
              line = stringify({ ...head, ...bindings, ...fields, ...(text !== undefined ? { msg: text } : {}) });
            } catch {
              // A field whose getter or toJSON throws: the message still gets out, the fields do not.
              line = JSON.stringify({ ...head, logError: 'the fields of this record could not be serialised', ...(text !== undefined ? { msg: text } : {}) });
            }
            try {
              sink(line);
            } catch {
              // stderr gone (EPIPE, EBADF): a lost line is better than failing the code that logged.
            }
          };
  }
  return logger;
}

export function createLogger(level: LogLevel, destination: number | NodeJS.WritableStream = 2, format: LogFormat = 'auto'): Logger {
  let sink: Sink;
  if (typeof destination !== 'number') sink = (line) => void destination.write(`${line}\n`);
  else {
    // `auto` asks whether the destination is a terminal when the first line is written: node:tty
    // costs a start-up ~2 ms, and most CLI runs log nothing.
    let text: boolean | undefined = format === 'auto' ? undefined : format === 'text';
    sink = (line) => writeFully(destination, (text ??= isatty(destination)) ? formatRecord(line) : `${line}\n`);
  }
  return makeLogger(level, sink, {});
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return makeLogger('silent', () => undefined, {});
}
