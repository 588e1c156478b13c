// File modes of delivered secrets: permission bits only (0000-0777; no setuid, setgid or sticky
// bit on a secret file), always shown to users in octal.
import { KeywayError } from './errors.js';

export const MAX_FILE_MODE = 0o777;

/** Octal text of a mode as users write it: 0400, 0640. */
export function formatMode(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

/** The mode itself, or invalid_argument naming `what` and the mode in octal. */
export function checkFileMode(mode: number, what: string): number {
  if (!Number.isInteger(mode) || mode < 0) throw new KeywayError('invalid_argument', `${what} ${String(mode)} is not a file mode; expected octal 0000-0777 such as 0400`);
  if (mode > MAX_FILE_MODE) throw new KeywayError('invalid_argument', `${what} ${formatMode(mode)} is not allowed: a secret file mode is 0000-0777 (no setuid, setgid or sticky bit)`);
  return mode;
}
