// SecretValue owns the bytes of a secret. The bytes sit in a private field, so JSON.stringify,
// util.inspect, template strings and structuredClone see nothing; code that needs the bytes asks
// for them explicitly with `expose()` and must not keep the Buffer. `zero()` wipes them.
import { timingSafeEqual } from 'node:crypto';
import { KeywayError } from './errors.js';

// util.inspect.custom is this registered symbol; naming it spares every CLI start an ESM import of
// node:util, whose namespace evaluates parseArgs, worker_threads and more (about 4 ms).
const INSPECT_CUSTOM = Symbol.for('nodejs.util.inspect.custom');

const REDACTED = '[SecretValue redacted]';

export class SecretValue {
  #bytes: Buffer;
  #zeroed = false;

  private constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  /** Takes ownership of `bytes`: the caller must not use or reuse that Buffer afterwards. */
  static adopt(bytes: Buffer): SecretValue {
    return new SecretValue(bytes);
  }

  /** Copies `bytes` into a fresh Buffer (from the unpooled allocator, so zeroing is complete). */
  static copyOf(bytes: Uint8Array): SecretValue {
    const b = Buffer.allocUnsafeSlow(bytes.byteLength);
    b.set(bytes);
    return new SecretValue(b);
  }

  /** From a UTF-8 string. The string itself cannot be wiped: prefer Buffers end to end. */
  static fromString(text: string): SecretValue {
    return SecretValue.adopt(Buffer.from(text, 'utf8'));
  }

  get length(): number {
    return this.#bytes.length;
  }

  get zeroed(): boolean {
    return this.#zeroed;
  }

  /** The live bytes. Do not retain, log or stringify them; copy if they must outlive this value. */
  expose(): Buffer {
    if (this.#zeroed) throw new KeywayError('internal', 'secret value used after it was zeroed');
    return this.#bytes;
  }

  clone(): SecretValue {
    return SecretValue.copyOf(this.expose());
  }

  equals(other: SecretValue): boolean {
    const a = this.expose();
    const b = other.expose();
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Overwrites the bytes with zeros. Idempotent. */
  zero(): void {
    this.#bytes.fill(0);
    this.#zeroed = true;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [INSPECT_CUSTOM](): string {
    return REDACTED;
  }

  get [Symbol.toStringTag](): string {
    return 'SecretValue';
  }
}

/** Runs `fn` with the value and zeroes it afterwards, whatever happens. */
export async function withSecret<T>(value: SecretValue, fn: (v: SecretValue) => Promise<T> | T): Promise<T> {
  try {
    return await fn(value);
  } finally {
    value.zero();
  }
}
