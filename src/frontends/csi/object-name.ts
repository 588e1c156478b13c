// An objectName is the path of a file inside the pod's volume. The driver writes whatever path the
// provider returns, so a name that escapes the volume (CVE-2020-8567) or collides with the atomic
// writer's own `..data` / `..<timestamp>` entries must be refused here, before anything is fetched.
import { KeywayError } from '../../core/errors.js';

export const MAX_ELEMENT_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

function bad(message: string): KeywayError {
  return new KeywayError('invalid_argument', `objectName ${message}`);
}

/** Returns the name unchanged if it is a relative, clean path; throws `invalid_argument` otherwise. */
export function validateObjectName(name: unknown, index: number): string {
  const where = `of objects[${index}]`;
  if (typeof name !== 'string') throw bad(`${where} must be a string`);
  if (name.length === 0) throw bad(`${where} is empty`);
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name);
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) throw bad(`${where} is longer than ${MAX_PATH_BYTES} bytes`);
  // Control characters are never useful in a file name and make logs and `ls` output misleading.
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad(`${shown} ${where} contains a control character`);
  if (name.includes('\\')) throw bad(`${shown} ${where} contains "\\" (use "/" between directories)`);
  if (name.startsWith('/')) throw bad(`${shown} ${where} is absolute (it must be relative to the volume)`);
  if (name.endsWith('/')) throw bad(`${shown} ${where} ends with "/" (it must name a file)`);
  for (const element of name.split('/')) {
    if (element === '') throw bad(`${shown} ${where} contains an empty path element ("//")`);
    if (element === '.' || element === '..') throw bad(`${shown} ${where} contains a "${element}" path element (it must be a clean path inside the volume)`);
    if (element.startsWith('..')) throw bad(`${shown} ${where} has an element starting with ".." (reserved for the driver's atomic writer)`);
    if (Buffer.byteLength(element) > MAX_ELEMENT_BYTES) throw bad(`${where} has a path element longer than ${MAX_ELEMENT_BYTES} bytes`);
  }
  return name;
}

/**
 * Refuses two objects with the same path, and a path that is also used as a directory by another
 * (`a` and `a/b`), which the driver could only write by replacing one with the other.
 */
export function checkDistinctNames(names: readonly string[]): void {
  const files = new Map<string, number>();
  names.forEach((n, i) => {
    const prev = files.get(n);
    if (prev !== undefined) throw new KeywayError('invalid_argument', `objectName ${JSON.stringify(n)} is used by objects[${prev}] and objects[${i}]`);
    files.set(n, i);
  });
  for (const [n, i] of files) {
    const parts = n.split('/');
    for (let k = 1; k < parts.length; k++) {
      const dir = parts.slice(0, k).join('/');
      const j = files.get(dir);
      if (j !== undefined) throw new KeywayError('invalid_argument', `objectName ${JSON.stringify(dir)} of objects[${j}] is also a directory of objects[${i}] (${JSON.stringify(n)})`);
    }
  }
}
