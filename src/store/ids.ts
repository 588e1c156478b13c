import { randomBytes } from 'node:crypto';

/** A 25-hex id like Podman's (first 25 hex digits of 64 random ones). */
export function newId(): string {
  return randomBytes(13).toString('hex').slice(0, 25);
}

export const ID_RE = /^[0-9a-f]{25}$/;
