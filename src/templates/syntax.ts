// Template syntax. A template is data, never code: literal text plus placeholders
//   {{ TARGET }}  or  {{ TARGET | filter | filter ... }}
// where TARGET is a named secret or a `ref+...` reference and each filter is one of FILTERS.
// `\{{` writes a literal `{{`, and `\\{{` writes a backslash followed by a placeholder. In a run of
// three or more `{`, the last two open the placeholder (`{{{ x }}}` is `{` + value + `}`).
// A placeholder must close on the line it opens. There is nothing else: no conditions, loops,
// environment or file access. The parser is total: any input gives a Template or a KeywayError
// (`invalid_argument`) whose message starts with FILE:LINE:COL. Templates are not secret, so
// messages may quote them.
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { KeywayError, toKeywayError } from '../core/errors.js';
import { validateSecretName } from '../core/names.js';
import { isReference, parseReference } from '../core/reference.js';
import { FILTER_NAMES, type FilterName } from './filters.js';

export const MAX_PLACEHOLDERS = 1000;

export interface Placeholder {
  readonly kind: 'placeholder';
  /** NAME or REF, exactly as written. */
  readonly target: string;
  readonly filters: readonly FilterName[];
  /** Index of `target` in the template's `targets`. */
  readonly index: number;
  /** 1-based position of the opening `{{`. */
  readonly line: number;
  readonly col: number;
}

export interface Literal {
  readonly kind: 'text';
  readonly bytes: Buffer;
}

export type Segment = Literal | Placeholder;

export interface Template {
  /** How errors name the template (a path, or a name inside the templates dir). */
  readonly file: string;
  readonly segments: readonly Segment[];
  /** Every distinct target, in order of first use. */
  readonly targets: readonly string[];
  /** sha256 of the template text: a change of the template is a change of the output. */
  readonly digest: string;
}

/** Where a placeholder is, as `FILE:LINE:COL`. */
export function locate(file: string, line: number, col: number): string {
  return `${file}:${line}:${col}`;
}

class Positions {
  readonly #starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.#starts.push(i + 1);
  }
  at(index: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] as number) <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: index - (this.#starts[lo] as number) + 1 };
  }
}

const BLANK = new Set([' ', '\t']);

function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}

/** Parses template text (a string, or bytes that must be UTF-8). */
export function parseTemplate(source: string | Uint8Array, file: string): Template {
  let text: string;
  if (typeof source === 'string') text = source;
  else {
    if (!isUtf8(source)) throw new KeywayError('invalid_argument', `${file}: the template is not UTF-8 text`);
    text = Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
  }
  const pos = new Positions(text);
  const fail = (index: number, message: string): KeywayError => {
    const { line, col } = pos.at(index);
    return new KeywayError('invalid_argument', `${locate(file, line, col)}: ${message}`);
  };
  const segments: Segment[] = [];
  const targets: string[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal.length > 0) segments.push({ kind: 'text', bytes: Buffer.from(literal, 'utf8') });
    literal = '';
  };
  let placeholders = 0;
  let i = 0;
  const n = text.length;
  // Next candidates, re-searched only once passed (keeps the scan linear).
  let next = -1;
  let slash = -1;
  while (i < n) {
    if (next >= 0 ? next < i : next === -1) next = text.indexOf('{{', i);
    if (slash >= 0 ? slash < i : slash === -1) slash = text.indexOf('\\', i);
    if (next < 0) next = -2;
    if (slash < 0) slash = -2;
    if (next < 0 && slash < 0) {
      literal += text.slice(i);
      break;
    }
    if (slash >= 0 && (next < 0 || slash < next)) {
      literal += text.slice(i, slash);
      if (text.startsWith('\\\\{{', slash)) {
        literal += '\\';
        i = slash + 2;
      } else if (text.startsWith('\\{{', slash)) {
        literal += '{{';
        i = slash + 3;
      } else {
        literal += '\\';
        i = slash + 1;
      }
      continue;
    }
    // `next` starts a run of at least two `{`: the last two open the placeholder.
    let open = next;
    while (text[open + 2] === '{') open++;
    literal += text.slice(i, open);
    flush();
    if (++placeholders > MAX_PLACEHOLDERS) throw fail(open, `more than ${MAX_PLACEHOLDERS} placeholders in one template`);
    const { placeholder, end } = parsePlaceholder(text, open, pos, fail, targets);
    segments.push(placeholder);
    i = end;
  }
  flush();
  return { file, segments, targets, digest: createHash('sha256').update(text).digest('hex') };
}

function parsePlaceholder(text: string, open: number, pos: Positions, fail: (index: number, message: string) => KeywayError, targets: string[]): { placeholder: Placeholder; end: number } {
  const n = text.length;
  const skipBlank = (j: number): number => {
    while (j < n && BLANK.has(text[j] as string)) j++;
    return j;
  };
  const unclosed = (): KeywayError => fail(open, 'placeholder is not closed by "}}" on the same line');
  let j = skipBlank(open + 2);
  const start = j;
  while (j < n && !BLANK.has(text[j] as string) && text[j] !== '|' && text[j] !== '\n' && text[j] !== '\r' && !text.startsWith('}}', j)) j++;
  const target = text.slice(start, j);
  if (target.length === 0) {
    if (text.startsWith('}}', j)) throw fail(open, 'empty placeholder (expected a secret name or a reference between "{{" and "}}")');
    if (text[j] === '|') throw fail(j, 'missing a secret name or a reference before "|"');
    throw unclosed();
  }
  checkTarget(target, start, fail);
  const filters: FilterName[] = [];
  for (;;) {
    j = skipBlank(j);
    if (text.startsWith('}}', j)) break;
    if (j >= n || text[j] === '\n' || text[j] === '\r') throw unclosed();
    if (text[j] !== '|') throw fail(j, `unexpected ${quote(text[j] as string)} in a placeholder (expected "|" and a filter, or "}}")`);
    j = skipBlank(j + 1);
    const at = j;
    while (j < n && /[A-Za-z0-9_-]/.test(text[j] as string)) j++;
    const name = text.slice(at, j);
    if (name.length === 0) throw fail(at, `expected a filter name after "|" (filters: ${FILTER_NAMES.join(', ')})`);
    if (!(FILTER_NAMES as readonly string[]).includes(name)) throw fail(at, `unknown filter ${quote(name)} (filters: ${FILTER_NAMES.join(', ')})`);
    filters.push(name as FilterName);
  }
  const { line, col } = pos.at(open);
  let index = targets.indexOf(target);
  if (index < 0) index = targets.push(target) - 1;
  return { placeholder: { kind: 'placeholder', target, filters, index, line, col }, end: j + 2 };
}

function checkTarget(target: string, at: number, fail: (index: number, message: string) => KeywayError): void {
  try {
    if (isReference(target)) parseReference(target);
    else validateSecretName(target, 'secret name');
  } catch (e) {
    throw fail(at, toKeywayError(e).message);
  }
}
