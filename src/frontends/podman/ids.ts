// Podman's secret ids as the shell driver and the plugin protocol hand them to keyway. Podman makes
// 25 lowercase hex digits; anything else (empty, "..", a path) is refused before touching the store,
// which also catches Podman's --replace bug that calls Delete("").
import { KeywayError } from '../../core/errors.js';

const ID_RE = /^[0-9a-f]{1,64}$/;

export function validatePodmanId(id: string | undefined, what = 'SECRET_ID'): string {
  if (id === undefined || id.length === 0) throw new KeywayError('invalid_argument', `${what} is empty (Podman passes the secret id there)`);
  if (!ID_RE.test(id)) throw new KeywayError('invalid_argument', `${what} ${JSON.stringify(id.slice(0, 70))} is not a Podman secret id (expected 1-64 lowercase hex digits)`);
  return id;
}

/** Blob id of the local provider that holds a literal value stored for a Podman secret id. */
export function blobIdFor(id: string): string {
  return `podman-${id}`;
}
