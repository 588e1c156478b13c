// References: `ref+<provider>://<path>[?<query>][#<fragment>]` (vals-compatible).
// The parser is total: any string yields a Reference or a KeywayError('invalid_argument') that
// names the bad part. Messages quote structural parts (provider, option keys) but never query values
// or paths beyond a short prefix, since users sometimes paste a secret where a reference belongs.
import { KeywayError } from './errors.js';

export const REF_PREFIX = 'ref+';
export const PROVIDER_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const QUERY_KEY_RE = /^[a-z][a-z0-9_]{0,62}$/;
const MAX_REF_LENGTH = 8192;

export interface Reference {
  /** Provider instance name from config, or a built-in type used with defaults. */
  readonly provider: string;
  /** Provider-specific path, percent-decoded. Never empty. */
  readonly path: string;
  /** Provider options from the query string, in order; keys are unique. */
  readonly query: Readonly<Record<string, string>>;
  /** JSON pointer tokens (RFC 6901, unescaped) from the fragment; undefined without a fragment. */
  readonly pointer?: readonly string[];
}

export function isReference(text: string): boolean {
  return text.startsWith(REF_PREFIX);
}

function bad(message: string): KeywayError {
  return new KeywayError('invalid_argument', `reference: ${message}`);
}

function decode(part: string, what: string): string {
  if (!/^(?:[^%]|%[0-9A-Fa-f]{2})*$/.test(part)) throw bad(`${what} has a malformed percent-escape`);
  try {
    return decodeURIComponent(part);
  } catch {
    throw bad(`${what} has a percent-escape that is not valid UTF-8`);
  }
}

function checkRaw(part: string, what: string): void {
  // Raw control characters and spaces must be percent-encoded; everything else printable is allowed.
  const i = part.search(/[\u0000-\u0020\u007f]/);
  if (i >= 0) throw bad(`${what} contains a control character or space at offset ${i} (percent-encode it)`);
}

export function parseReference(text: string): Reference {
  if (typeof text !== 'string') throw bad('expected a string');
  if (text.length > MAX_REF_LENGTH) throw bad(`longer than ${MAX_REF_LENGTH} characters`);
  if (!text.startsWith(REF_PREFIX)) throw bad(`must start with "${REF_PREFIX}"`);
  const sep = text.indexOf('://', REF_PREFIX.length);
  if (sep < 0) throw bad('missing "://" after the provider name');
  const provider = text.slice(REF_PREFIX.length, sep);
  if (!PROVIDER_NAME_RE.test(provider)) {
    throw bad(`provider name ${JSON.stringify(provider.slice(0, 64))} is invalid (expected lowercase letters, digits, "-" or "_", 1-63 chars, starting with a letter or digit)`);
  }
  let rest = text.slice(sep + 3);

  let fragment: string | undefined;
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let queryText: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    queryText = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }

  checkRaw(rest, 'path');
  const path = decode(rest, 'path');
  if (path.length === 0) throw bad('path is empty');
  if (path.includes('\0')) throw bad('path contains a NUL byte');

  const query: Record<string, string> = {};
  if (queryText !== undefined) {
    if (queryText.length === 0) throw bad('query string after "?" is empty');
    checkRaw(queryText, 'query');
    for (const pair of queryText.split('&')) {
      const eq = pair.indexOf('=');
      const rawKey = eq < 0 ? pair : pair.slice(0, eq);
      const key = decode(rawKey, 'query key');
      if (!QUERY_KEY_RE.test(key)) throw bad(`query key ${JSON.stringify(key.slice(0, 64))} is invalid (expected [a-z][a-z0-9_]*)`);
      if (eq < 0) throw bad(`query key "${key}" has no value (expected ${key}=VALUE)`);
      const value = decode(pair.slice(eq + 1), `query value of "${key}"`);
      if (value.length === 0) throw bad(`query key "${key}" has an empty value`);
      if (Object.hasOwn(query, key)) throw bad(`query key "${key}" is repeated`);
      query[key] = value;
    }
  }

  if (fragment === undefined) return { provider, path, query };
  checkRaw(fragment, 'fragment');
  const decoded = decode(fragment, 'fragment');
  return { provider, path, query, pointer: parsePointer(decoded) };
}

/** Parses `/a/b~1c` (RFC 6901) or the shorthand `key` (= `/key`). */
export function parsePointer(text: string): string[] {
  if (text.length === 0) throw bad('fragment after "#" is empty');
  if (!text.startsWith('/')) text = `/${text}`;
  return text
    .slice(1)
    .split('/')
    .map((tok) => {
      if (/~(?![01])/.test(tok)) throw bad('fragment has "~" not followed by 0 or 1 (JSON pointer escapes are ~0 and ~1)');
      return tok.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

function encodeQueryPart(s: string): string {
  return encodeURIComponent(s);
}

export function formatPointer(pointer: readonly string[]): string {
  return pointer.map((t) => '/' + encodeURIComponent(t.replace(/~/g, '~0').replace(/\//g, '~1'))).join('');
}

/** The canonical string of a reference: parseReference(formatReference(r)) deep-equals r. */
export function formatReference(ref: Reference): string {
  let out = `${REF_PREFIX}${ref.provider}://${encodePath(ref.path)}`;
  const keys = Object.keys(ref.query);
  if (keys.length > 0) out += '?' + keys.map((k) => `${encodeQueryPart(k)}=${encodeQueryPart(ref.query[k] ?? '')}`).join('&');
  if (ref.pointer !== undefined) out += '#' + formatPointer(ref.pointer);
  return out;
}

/** A short, log-safe description: provider and path only (no query values, no fragment). */
export function describeReference(ref: Reference): string {
  return `ref+${ref.provider}://${encodePath(ref.path)}`;
}

/** Returns a copy without the given query keys (broker-level options such as `ttl`). */
export function withoutQueryKeys(ref: Reference, keys: readonly string[]): Reference {
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(ref.query)) if (!keys.includes(k)) query[k] = v;
  return { ...ref, query };
}
