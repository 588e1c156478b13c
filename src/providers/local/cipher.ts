// AES-256-GCM with a random 96-bit nonce per write and AAD binding the blob id, so a ciphertext
// copied onto another blob id fails authentication.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeywayError } from '../../core/errors.js';
import { SecretValue } from '../../core/secret-value.js';

const AAD_PREFIX = 'keyway/local/v1\0';

export interface Sealed {
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export function seal(key: Buffer, blobId: string, plaintext: SecretValue): Sealed {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(AAD_PREFIX + blobId, 'utf8'));
  const ciphertext = Buffer.concat([c.update(plaintext.expose()), c.final()]);
  return { nonce, ciphertext, tag: c.getAuthTag() };
}

export function open(key: Buffer, blobId: string, sealed: Sealed): SecretValue {
  const d = createDecipheriv('aes-256-gcm', key, sealed.nonce);
  d.setAAD(Buffer.from(AAD_PREFIX + blobId, 'utf8'));
  d.setAuthTag(sealed.tag);
  const out = Buffer.allocUnsafeSlow(sealed.ciphertext.length);
  try {
    const n = d.update(sealed.ciphertext).copy(out, 0);
    d.final();
    return SecretValue.adopt(out.subarray(0, n));
  } catch (e) {
    out.fill(0);
    throw new KeywayError('checksum_mismatch', `local blob ${blobId} failed authentication (corrupt or tampered ciphertext)`, { cause: e });
  }
}
