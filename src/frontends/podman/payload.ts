// What `store` received: a single line starting with `ref+` (one trailing newline allowed) is a
// reference; anything else is a literal value. The rule is the same for the shell driver and the
// plugin protocol so a user can move secrets between them.
import { KeywayError } from '../../core/errors.js';
import { REF_PREFIX } from '../../core/reference.js';
import type { SecretValue } from '../../core/secret-value.js';

/** Podman's own limit: data must be more than 0 and less than 512000 bytes. */
export const PODMAN_MAX_BYTES = 512000 - 1;

const PREFIX = Buffer.from(REF_PREFIX);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Returns the reference text when the payload is one, else undefined (a literal value). */
export function referenceIn(value: SecretValue): string | undefined {
  const b = value.expose();
  if (b.length < PREFIX.length || !b.subarray(0, PREFIX.length).equals(PREFIX)) return undefined;
  const nl = b.indexOf(0x0a);
  if (nl >= 0 && nl !== b.length - 1) return undefined;
  const line = nl >= 0 ? b.subarray(0, nl) : b;
  try {
    return utf8.decode(line);
  } catch {
    throw new KeywayError('invalid_argument', 'payload starts with "ref+" but is not valid UTF-8, so it is neither a reference nor accepted as a value (a value must not look like a reference)');
  }
}

export function checkPodmanSize(length: number, what = 'secret data'): void {
  if (length === 0) throw new KeywayError('invalid_argument', `${what} is empty (Podman requires more than 0 bytes)`);
  if (length > PODMAN_MAX_BYTES) throw new KeywayError('too_large', `${what} is ${length} bytes; Podman's limit is less than 512000`);
}
