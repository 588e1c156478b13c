// The CLI's one mapping from error codes to exit codes and the one-line stderr form
// `keyway: <code>: <message>` (docs/cli.md lists the exit codes).
import { toKeywayError, type ErrorCode } from '../core/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_FOUND = 3;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'not_found':
      return EXIT_NOT_FOUND;
    case 'invalid_argument':
      return EXIT_USAGE;
    default:
      return EXIT_FAILED;
  }
}

/** Prints the error line and returns the exit code. Messages are single-line by construction. */
export function reportError(e: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  const err = toKeywayError(e);
  write(`keyway: ${err.code}: ${err.message.replace(/[\r\n]+/g, ' ')}\n`);
  return exitCodeFor(err.code);
}
