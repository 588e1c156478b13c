// Structured logs (pino) to stderr. Secret material never reaches a log call by construction
// (SecretValue prints as redacted); the redact paths are a second line of defence for fields that
// carry credentials by name.
import { isatty } from 'node:tty';
import { pino, type Logger as PinoLogger } from 'pino';
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

export function createLogger(level: LogLevel, destination: number | NodeJS.WritableStream = 2, format: LogFormat = 'auto'): Logger {
  const text = typeof destination === 'number' && (format === 'text' || (format === 'auto' && isatty(destination)));
  const dest = typeof destination !== 'number' ? destination : text ? textDestination(destination) : pino.destination({ fd: destination, sync: true });
  return pino({ level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
