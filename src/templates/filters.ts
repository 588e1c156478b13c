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

/**
 * A filter in two steps, so the renderer can write straight into the output buffer: `size` checks
 * the input (and throws what the filter cannot represent), `write` fills exactly that many bytes.
 */
export interface Filter {
  size(input: Buffer): number;
  write(input: Buffer, out: Buffer, at: number): void;
}

const HEX = Buffer.from('0123456789ABCDEF');
const hexLower = Buffer.from('0123456789abcdef');

/** Code point of the valid UTF-8 sequence at i (length len). */
function codePoint(input: Buffer, i: number, len: number): number {
  const b = input[i] as number;
  let cp = b & (len === 2 ? 0x1f : len === 3 ? 0x0f : 0x07);
  for (let k = 1; k < len; k++) cp = (cp << 6) | ((input[i + k] as number) & 0x3f);
  return cp;
}

const utf8Length = (b: number): number => (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2);
const escapedCp = (cp: number): boolean => (cp >= 0x80 && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || cp === 0xfeff || cp === 0xfffe || cp === 0xffff;
/** Writes `\\uXXXX` at o; returns the next offset. */
function writeU(out: Buffer, o: number, cp: number): number {
  out[o] = 0x5c;
  out[o + 1] = 0x75;
  out[o + 2] = hexLower[(cp >> 12) & 0xf] as number;
  out[o + 3] = hexLower[(cp >> 8) & 0xf] as number;
  out[o + 4] = hexLower[(cp >> 4) & 0xf] as number;
  out[o + 5] = hexLower[cp & 0xf] as number;
  return o + 6;
}

const SHORT_ESCAPE: Readonly<Record<number, number>> = { 0x22: 0x22, 0x5c: 0x5c, 0x0a: 0x6e, 0x0d: 0x72, 0x09: 0x74, 0x08: 0x62, 0x0c: 0x66 };

/**
 * A JSON string literal, quotes included. It is also a YAML double-quoted scalar: besides what JSON
 * requires, DEL, the C1 controls, U+2028/U+2029 (JavaScript line ends), U+FEFF and U+FFFE/U+FFFF
 * are written as \u escapes, since YAML does not allow them raw. Bytes that are not UTF-8 have no
 * JSON form and are refused.
 */
export const json: Filter = {
  size(input) {
    if (!isUtf8(input)) throw refuse('the value is not UTF-8 text, so the json filter cannot represent it (use base64)');
    let n = 2;
    for (let i = 0; i < input.length; ) {
      const b = input[i] as number;
      if (b < 0x80) {
        n += SHORT_ESCAPE[b] !== undefined ? 2 : b < 0x20 || b === 0x7f ? 6 : 1;
        i++;
        continue;
      }
      const len = utf8Length(b);
      n += escapedCp(codePoint(input, i, len)) ? 6 : len;
      i += len;
    }
    return n;
  },
  write(input, out, at) {
    let o = at;
    out[o++] = 0x22;
    for (let i = 0; i < input.length; ) {
      const b = input[i] as number;
      if (b < 0x80) {
        i++;
        const short = SHORT_ESCAPE[b];
        if (short !== undefined) {
          out[o++] = 0x5c;
          out[o++] = short;
        } else if (b < 0x20 || b === 0x7f) o = writeU(out, o, b);
        else out[o++] = b;
        continue;
      }
      // Valid UTF-8 (size() checked): the lead byte gives the length.
      const len = utf8Length(b);
      const cp = codePoint(input, i, len);
      if (escapedCp(cp)) o = writeU(out, o, cp);
      else for (let k = 0; k < len; k++) out[o++] = input[i + k] as number;
      i += len;
    }
    out[o] = 0x22;
  },
};

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');

/** Standard base64 (RFC 4648, with padding): represents any bytes. */
export const base64: Filter = {
  size: (input) => 4 * Math.ceil(input.length / 3),
  write(input, out, at) {
    let o = at;
    for (let i = 0; i < input.length; i += 3) {
      const rest = input.length - i;
      const n = ((input[i] as number) << 16) | ((rest > 1 ? (input[i + 1] as number) : 0) << 8) | (rest > 2 ? (input[i + 2] as number) : 0);
      out[o++] = B64[(n >> 18) & 63] as number;
      out[o++] = B64[(n >> 12) & 63] as number;
      out[o++] = rest > 1 ? (B64[(n >> 6) & 63] as number) : 0x3d;
      out[o++] = rest > 2 ? (B64[n & 63] as number) : 0x3d;
    }
  },
};

const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0b || b === 0x0c;

function trimmed(input: Buffer): [number, number] {
  let start = 0;
  let end = input.length;
  while (start < end && isSpace(input[start])) start++;
  while (end > start && isSpace(input[end - 1])) end--;
  return [start, end];
}

/** Removes ASCII whitespace (space, tab, CR, LF, VT, FF) at both ends: the usual trailing newline. */
export const trim: Filter = {
  size(input) {
    const [start, end] = trimmed(input);
    return end - start;
  },
  write(input, out, at) {
    const [start, end] = trimmed(input);
    out.set(input.subarray(start, end), at);
  },
};

/**
 * One POSIX shell word in single quotes, which the shell never expands: `'` becomes `'\''`. A NUL
 * byte cannot be part of a shell word (argv and the environment are C strings) and is refused.
 */
export const shell: Filter = {
  size(input) {
    if (input.includes(0)) throw refuse('the value contains a NUL byte, which no shell word can hold');
    let n = 2;
    for (let i = 0; i < input.length; i++) n += input[i] === 0x27 ? 4 : 1;
    return n;
  },
  write(input, out, at) {
    let o = at;
    out[o++] = 0x27;
    for (let i = 0; i < input.length; i++) {
      const b = input[i] as number;
      if (b === 0x27) {
        out[o++] = 0x27;
        out[o++] = 0x5c;
        out[o++] = 0x27;
        out[o++] = 0x27;
      } else out[o++] = b;
    }
    out[o++] = 0x27;
  },
};

const isUnreserved = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;

/**
 * Percent-encoding (RFC 3986): every byte but the unreserved `A-Z a-z 0-9 - . _ ~` becomes %XX, so
 * the result is safe as a URL user, password, path segment or query value. Works on any bytes.
 */
export const url: Filter = {
  size(input) {
    let n = 0;
    for (let i = 0; i < input.length; i++) n += isUnreserved(input[i] as number) ? 1 : 3;
    return n;
  },
  write(input, out, at) {
    let o = at;
    for (let i = 0; i < input.length; i++) {
      const b = input[i] as number;
      if (isUnreserved(b)) out[o++] = b;
      else {
        out[o++] = 0x25;
        out[o++] = HEX[b >> 4] as number;
        out[o++] = HEX[b & 0xf] as number;
      }
    }
  },
};

export const FILTERS: Readonly<Record<FilterName, Filter>> = { json, base64, trim, shell, url };

/** One filter on its own: a fresh Buffer of the result. */
export function runFilter(filter: Filter, input: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(filter.size(input));
  filter.write(input, out, 0);
  return out;
}

/** A placeholder's value after all filters but the last, and that last filter (if any). */
export interface Chain {
  /** `value` itself, or a scratch Buffer the caller wipes (see `scratch`). */
  readonly input: Buffer;
  readonly last: Filter | undefined;
  /** Intermediate results to wipe once the output is written. */
  readonly scratch: readonly Buffer[];
}

/** Runs every filter but the last; the last one later writes straight into the output. */
export function prepareChain(value: Buffer, filters: readonly FilterName[]): Chain {
  const scratch: Buffer[] = [];
  let input = value;
  try {
    for (let i = 0; i < filters.length - 1; i++) {
      input = runFilter(FILTERS[filters[i] as FilterName], input);
      scratch.push(input);
    }
  } catch (e) {
    for (const b of scratch) b.fill(0);
    throw e;
  }
  const name = filters[filters.length - 1];
  return { input, last: name === undefined ? undefined : FILTERS[name], scratch };
}
