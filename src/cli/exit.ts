// The CLI's one mapping from error codes to exit codes and the one-line stderr form
// `keyway: <code>: <message>` (docs/cli.md lists the exit codes).
import { toKeywayError, type ErrorCode } from '../core/errors.js';
import { oneLine } from '../core/one-line.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;

/**
 * Exit status per error code. A Record, not a switch with a default, so a new code in
 * core/errors.ts does not compile until it has an exit status here. bin/keyway-podman-lookup
 * repeats this table in Perl (test/cli/error-maps.test.ts keeps the two equal).
 */
export const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: EXIT_USAGE,
  not_found: EXIT_NOT_FOUND,
  already_exists: EXIT_FAILED,
  permission_denied: EXIT_FAILED,
  unauthenticated: EXIT_FAILED,
  unavailable: EXIT_FAILED,
  throttled: EXIT_FAILED,
  timeout: EXIT_FAILED,
  cancelled: EXIT_FAILED,
  too_large: EXIT_FAILED,
  checksum_mismatch: EXIT_FAILED,
  failed_precondition: EXIT_FAILED,
  unsupported: EXIT_FAILED,
  internal: EXIT_FAILED,
};

/** Prints the error line and returns the exit code; whatever a message quotes, it stays one line. */
export function reportError(e: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const err = toKeywayError(e);
  write(`keyway: ${err.code}: ${oneLine(err.message)}\n`);
  return EXIT_CODES[err.code];
}

/**
 * How a command that failed ends: the error line, then, for an unexpected error with debug logging
 * on (`--log-level debug|trace` or KEYWAY_LOG_LEVEL), where it was thrown, for bug reports: the
 * cause's type and stack frames, not its message, which may be a library's that quoted its input
 * (the logger never writes a cause for the same reason).
 */
export function reportFailure(e: unknown, argv: readonly string[], write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const err = toKeywayError(e);
  const code = reportError(err, write);
  const debug = argv.some((a, i) => (a === '--log-level' && /^(debug|trace)$/.test(argv[i + 1] ?? '')) || /^--log-level=(debug|trace)$/.test(a)) || /^(debug|trace)$/.test(process.env.KEYWAY_LOG_LEVEL ?? '');
  if (debug && err.code === 'internal') {
    const source = err.cause instanceof Error ? err.cause : err;
    const frames = (source.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
    write(`${source.name}\n${frames.join('\n')}\n`);
  }
  return code;
}
