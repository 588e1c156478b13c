// Structured logs (pino) to stderr. Secret material never reaches a log call by construction
// (SecretValue prints as redacted); the redact paths are a second line of defence for fields that
// carry credentials by name.
// pino is loaded on the first call that would write (tens of milliseconds a CLI command that logs
// nothing should not pay); below the level, a call costs a comparison.
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import type * as Pino from 'pino';
import type { Logger as PinoLogger } from 'pino';
import { textDestination } from './log-text.js';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
/** `auto`: text lines when the destination fd is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'text', 'json'];

export const REDACT_PATHS = [
  'value', '*.value', 'token', '*.token', 'tokens', '*.tokens', 'password', '*.password',
  'secret_id', '*.secret_id', 'authorization', '*.authorization', 'headers.authorization',
  'headers["x-vault-token"]', 'payload', '*.payload', 'contents', '*.contents', 'secrets', '*.secrets',
];

const require = createRequire(import.meta.url);
const pinoModule = (): typeof Pino => require('pino') as typeof Pino;

const RANK: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const noop = (): void => undefined;

/** A logger whose pino instance is made by `make` on first real use. */
function lazyLogger(level: LogLevel, make: () => PinoLogger): Logger {
  let real: PinoLogger | undefined;
  const get = (): PinoLogger => (real ??= make());
  return new Proxy({} as PinoLogger, {
    get(_t, key) {
      if (real === undefined) {
        if (key === 'level') return level;
        if (key === 'child') return (bindings: Record<string, unknown>, opts?: object) => lazyLogger(level, () => get().child(bindings, opts));
        if (key === 'isLevelEnabled') return (l: string) => (RANK[l] ?? 0) >= (RANK[level] ?? 0) && level !== 'silent';
        const rank = typeof key === 'string' ? RANK[key] : undefined;
        if (rank !== undefined && key !== 'silent' && rank < (RANK[level] ?? 0)) return noop;
      }
      const r = get();
      const v: unknown = Reflect.get(r, key, r);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(r) : v;
    },
    set(_t, key, value) {
      return Reflect.set(get(), key, value);
    },
    has(_t, key) {
      return key in get();
    },
  });
}

export function createLogger(level: LogLevel, destination: number | NodeJS.WritableStream = 2, format: LogFormat = 'auto'): Logger {
  return lazyLogger(level, () => {
    const { pino } = pinoModule();
    const text = typeof destination === 'number' && (format === 'text' || (format === 'auto' && isatty(destination)));
    const dest = typeof destination !== 'number' ? destination : text ? textDestination(destination) : pino.destination({ fd: destination, sync: true });
    return pino({ level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, dest);
  });
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pinoModule().pino({ level: 'silent' });
}
