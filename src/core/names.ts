// Name rules shared by every frontend (docs/cli.md, "Named secrets"; docs/docker.md, "Names").
import { KeywayError } from './errors.js';

export const MAX_NAME_LENGTH = 253;
const DOCKER_VOLUME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Secret names follow Podman: 1-253 chars, no `=`, `/`, `,` or NUL, not `.` or `..`. */
export function validateSecretName(name: string, what = 'secret name'): string {
  if (typeof name !== 'string' || name.length === 0) throw new KeywayError('invalid_argument', `${what} is empty`);
  if (name.length > MAX_NAME_LENGTH) throw new KeywayError('invalid_argument', `${what} is ${name.length} characters long (at most ${MAX_NAME_LENGTH})`);
  const badChar = [...name].find((c) => c === '=' || c === '/' || c === ',' || c === '\0');
  if (badChar !== undefined) throw new KeywayError('invalid_argument', `${what} ${JSON.stringify(name)} contains ${JSON.stringify(badChar)} (not allowed: = / , NUL)`);
  if (name === '.' || name === '..') throw new KeywayError('invalid_argument', `${what} must not be "${name}"`);
  if (name.startsWith('ref+')) throw new KeywayError('invalid_argument', `${what} must not start with "ref+" (that prefix marks a reference)`);
  return name;
}

/**
 * Volume names additionally match Docker's ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$: at least two characters,
 * because `docker run -v x:/path` reads a one-letter name as a drive letter and dockerd refuses it.
 * So a secret whose name breaks these rules is mounted through an explicit volume (-o secret=NAME).
 */
export function validateVolumeName(name: string): string {
  validateSecretName(name, 'volume name');
  if (!DOCKER_VOLUME_RE.test(name)) {
    const why = /^[a-zA-Z0-9]$/.test(name) ? 'is one character; Docker volume names have at least two' : 'must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker\'s volume name rule)';
    throw new KeywayError('invalid_argument', `volume name ${JSON.stringify(name)} ${why}; to mount a secret of that name, create a volume for it: docker volume create -d keyway -o secret=NAME VOLUME`);
  }
  return name;
}

/** A file name inside a mount set: one path element, no traversal. */
export function validateFileName(name: string, what = 'file name'): string {
  if (typeof name !== 'string' || name.length === 0) throw new KeywayError('invalid_argument', `${what} is empty`);
  if (Buffer.byteLength(name) > 255) throw new KeywayError('invalid_argument', `${what} is longer than 255 bytes`);
  if (name.includes('/') || name.includes('\0')) throw new KeywayError('invalid_argument', `${what} ${JSON.stringify(name.replace(/\0/g, '\\0'))} must not contain "/" or NUL`);
  if (name === '.' || name === '..') throw new KeywayError('invalid_argument', `${what} must not be "${name}"`);
  if (name.startsWith('..')) throw new KeywayError('invalid_argument', `${what} must not start with ".." (reserved for atomic swaps)`);
  return name;
}
