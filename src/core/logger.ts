// Structured logs (pino) to stderr. Secret material never reaches a log call by construction
// (SecretValue prints as redacted); the redact paths are a second line of defence for fields that
// carry credentials by name.
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export const REDACT_PATHS = [
  'value', '*.value', 'token', '*.token', 'tokens', '*.tokens', 'password', '*.password',
  'secret_id', '*.secret_id', 'authorization', '*.authorization', 'headers.authorization',
  'headers["x-vault-token"]', 'payload', '*.payload', 'contents', '*.contents', 'secrets', '*.secrets',
];

export function createLogger(level: LogLevel, destination: number | NodeJS.WritableStream = 2): Logger {
  const dest = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino({ level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
