// Filters turn a secret's bytes into the form a file format needs. They work on Buffers end to end
// (no intermediate strings, which could not be wiped), return a fresh Buffer the caller zeroes, and
// refuse what they cannot represent rather than mangle it. Messages never contain the bytes.
import { isUtf8 } from 'node:buffer';
import { KeywayError } from '../core/errors.js';

export const FILTER_NAMES = ['json', 'base64', 'trim', 'shell', 'url'] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

function refuse(message: string): KeywayError {
  return new KeywayError('invalid_argument', message);
}

/** Copies the first `length` bytes of a scratch Buffer out and wipes the scratch. */
function exact(scratch: Buffer, length: number): Buffer {
  const out = Buffer.allocUnsafeSlow(length);
  scratch.copy(out, 0, 0, length);
  scratch.fill(0);
  return out;
}

const HEX = Buffer.from('0123456789ABCDEF');
const hexLower = Buffer.from('0123456789abcdef');

/**
 * A JSON string literal, quotes included. It is also a YAML double-quoted scalar: besides what JSON
 * requires, DEL, the C1 controls, U+2028/U+2029 (JavaScript line ends), U+FEFF and U+FFFE/U+FFFF
 * are written as \u escapes, since YAML does not allow them raw. Bytes that are not UTF-8 have no
 * JSON form and are refused.
 */
export function jsonFilter(input: Buffer): Buffer {
  if (!isUtf8(input)) throw refuse('the value is not UTF-8 text, so the json filter cannot represent it (use base64)');
  const out = Buffer.allocUnsafeSlow(6 * input.length + 2);
  let o = 0;
  const u = (cp: number): void => {
    out[o++] = 0x5c;
    out[o++] = 0x75;
    for (const shift of [12, 8, 4, 0]) out[o++] = hexLower[(cp >> shift) & 0xf] as number;
  };
  out[o++] = 0x22;
  for (let i = 0; i < input.length; ) {
    const b = input[i] as number;
    if (b < 0x80) {
      i++;
      if (b === 0x22 || b === 0x5c) {
        out[o++] = 0x5c;
        out[o++] = b;
      } else if (b === 0x0a || b === 0x0d || b === 0x09 || b === 0x08 || b === 0x0c) {
        out[o++] = 0x5c;
        out[o++] = b === 0x0a ? 0x6e : b === 0x0d ? 0x72 : b === 0x09 ? 0x74 : b === 0x08 ? 0x62 : 0x66;
      } else if (b < 0x20 || b === 0x7f) u(b);
      else out[o++] = b;
      continue;
    }
    // Valid UTF-8 (checked above): the lead byte gives the length.
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    let cp = b & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
    for (let k = 1; k < len; k++) cp = (cp << 6) | ((input[i + k] as number) & 0x3f);
    if ((cp >= 0x80 && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || cp === 0xfeff || cp === 0xfffe || cp === 0xffff) u(cp);
    else for (let k = 0; k < len; k++) out[o++] = input[i + k] as number;
    i += len;
  }
  out[o++] = 0x22;
  return exact(out, o);
}

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/** Standard base64 (RFC 4648, with padding): represents any bytes. */
export function base64Filter(input: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(4 * Math.ceil(input.length / 3));
  let o = 0;
  for (let i = 0; i < input.length; i += 3) {
    const rest = input.length - i;
    const n = ((input[i] as number) << 16) | ((rest > 1 ? (input[i + 1] as number) : 0) << 8) | (rest > 2 ? (input[i + 2] as number) : 0);
    out[o++] = B64[(n >> 18) & 63] as number;
    out[o++] = B64[(n >> 12) & 63] as number;
    out[o++] = rest > 1 ? (B64[(n >> 6) & 63] as number) : 0x3d;
    out[o++] = rest > 2 ? (B64[n & 63] as number) : 0x3d;
  }
  return out;
}

const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

/** Removes ASCII whitespace (space, tab, CR, LF, VT, FF) at both ends: the usual trailing newline. */
export function trimFilter(input: Buffer): Buffer {
  let start = 0;
  let end = input.length;
  while (start < end && isSpace(input[start])) start++;
  while (end > start && isSpace(input[end - 1])) end--;
  const out = Buffer.allocUnsafeSlow(end - start);
  input.copy(out, 0, start, end);
  return out;
}

/**
 * One POSIX shell word in single quotes, which the shell never expands: `'` becomes `'\''`. A NUL
 * byte cannot be part of a shell word (argv and the environment are C strings) and is refused.
 */
export function shellFilter(input: Buffer): Buffer {
  if (input.includes(0)) throw refuse('the value contains a NUL byte, which no shell word can hold');
  const out = Buffer.allocUnsafeSlow(4 * input.length + 2);
  let o = 0;
  out[o++] = 0x27;
  for (const b of input) {
    if (b === 0x27) {
      out[o++] = 0x27;
      out[o++] = 0x5c;
      out[o++] = 0x27;
      out[o++] = 0x27;
    } else out[o++] = b;
  }
  out[o++] = 0x27;
  return exact(out, o);
}

const isUnreserved = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;

/**
 * Percent-encoding (RFC 3986): every byte but the unreserved `A-Z a-z 0-9 - . _ ~` becomes %XX, so
 * the result is safe as a URL user, password, path segment or query value. Works on any bytes.
 */
export function urlFilter(input: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(3 * input.length);
  let o = 0;
  for (const b of input) {
    if (isUnreserved(b)) out[o++] = b;
    else {
      out[o++] = 0x25;
      out[o++] = HEX[b >> 4] as number;
      out[o++] = HEX[b & 0xf] as number;
    }
  }
  return exact(out, o);
}

const FILTERS: Readonly<Record<FilterName, (input: Buffer) => Buffer>> = {
  json: jsonFilter,
  base64: base64Filter,
  trim: trimFilter,
  shell: shellFilter,
  url: urlFilter,
};

/** Applies filters left to right; intermediate Buffers are wiped. Returns a fresh Buffer. */
export function applyFilters(value: Buffer, filters: readonly FilterName[]): Buffer {
  let current = value;
  let owned = false;
  try {
    for (const f of filters) {
      const next = FILTERS[f](current);
      if (owned) current.fill(0);
      current = next;
      owned = true;
    }
  } catch (e) {
    if (owned) current.fill(0);
    throw e;
  }
  if (owned) return current;
  const copy = Buffer.allocUnsafeSlow(value.length);
  value.copy(copy);
  return copy;
}
