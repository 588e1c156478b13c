// `--format` for ls/inspect commands: "table", "json", or a Go-template subset as Podman and Docker
// accept it: literal text with `{{.Field}}` / `{{.Field.Sub}}` references and `{{json .Field}}`
// (or `{{json .}}`), optionally after "table " (then a header row names the columns). Anything else
// inside {{ }} is refused up front, naming it, rather than printed wrong.
import { KeywayError } from '../core/errors.js';

type Part = { readonly text: string } | { readonly path: readonly string[]; readonly json: boolean };

export interface OutputFormat {
  readonly kind: 'table' | 'json' | 'template';
  /** For "template": one rendered line per item. */
  readonly parts?: readonly Part[];
  /** For a "table {{...}}" template: print a header row first. */
  readonly header?: boolean;
}

const ACTION = /^(json\s+)?\.((?:[A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?$/;

function unescape(text: string): string {
  // Shells pass "\t" literally; Podman and Docker turn it into a tab, as here.
  return text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

function compile(template: string): Part[] {
  const parts: Part[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open < 0) {
      parts.push({ text: unescape(rest) });
      break;
    }
    if (open > 0) parts.push({ text: unescape(rest.slice(0, open)) });
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new KeywayError('invalid_argument', `--format: "{{" without a closing "}}" in ${JSON.stringify(template)}`);
    const action = rest.slice(open + 2, close).trim();
    const m = ACTION.exec(action);
    if (!m) throw new KeywayError('invalid_argument', `--format: {{${action}}} is not supported; use {{.Field}}, {{.Field.Sub}}, {{json .Field}} or {{json .}}`);
    parts.push({ path: m[2] ? m[2].split('.') : [], json: m[1] !== undefined });
    rest = rest.slice(close + 2);
  }
  return parts;
}

export function parseFormat(text: string): OutputFormat {
  if (text === 'table') return { kind: 'table' };
  if (text === 'json') return { kind: 'json' };
  if (!text.includes('{{')) throw new KeywayError('invalid_argument', `--format: expected table, json or a template such as '{{.Name}}', got ${JSON.stringify(text.slice(0, 64))}`);
  const table = /^table\s+/.exec(text);
  return { kind: 'template', parts: compile(table ? text.slice(table[0].length) : text), header: table !== null };
}

function lookup(item: unknown, path: readonly string[], shown: string): unknown {
  let v: unknown = item;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, key)) {
      throw new KeywayError('invalid_argument', `--format: ${shown} has no field ${JSON.stringify(key)}`);
    }
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** One line per item (a template that does not end in a newline gets one), header first for "table". */
export function renderTemplate(format: OutputFormat, items: readonly Record<string, unknown>[]): string {
  const parts = format.parts ?? [];
  const lines: string[] = [];
  if (format.header) lines.push(parts.map((p) => ('text' in p ? p.text : p.path.length ? (p.path.at(-1) ?? '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase() : 'JSON')).join(''));
  for (const item of items) {
    lines.push(parts.map((p) => ('text' in p ? p.text : p.json ? JSON.stringify(lookup(item, p.path, '.' + p.path.join('.')) ?? null) : show(lookup(item, p.path, '.' + p.path.join('.'))))).join(''));
  }
  return lines.map((l) => (l.endsWith('\n') ? l : l + '\n')).join('');
}

/** A plain column table: widths from the widest cell, two spaces between columns. */
export function renderTable(rows: readonly (readonly string[])[], noheading: boolean): string {
  const all = noheading ? rows.slice(1) : rows;
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 2))).join('').trimEnd() + '\n').join('');
}
