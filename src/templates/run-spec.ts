// `keyway run --template SRC[,target=NAME][,mode=0NNN]`: SRC is a file the user names (read with
// their own rights). Every template is read and parsed before anything else happens, so a syntax
// error is a usage error with no side effects; rendering happens with the other secrets.
import { basename } from 'node:path';
import { KeywayError } from '../core/errors.js';
import { validateFileName } from '../core/names.js';
import type { SecretValue } from '../core/secret-value.js';
import type { Resolver } from '../broker/types.js';
import type { SecretSpec } from '../delivery/run-spec.js';
import { readTemplatePath } from './files.js';
import { templateTarget, TemplatingResolver } from './resolver.js';
import { parseTemplate, type Template } from './syntax.js';

export interface TemplateSpec {
  readonly src: string;
  /** File name in CREDENTIALS_DIRECTORY. */
  readonly file: string;
  readonly mode?: number;
}

type Key = 'target' | 'mode';

function bad(message: string): KeywayError {
  return new KeywayError('invalid_argument', message);
}

/** The file name a template renders to by default: its own name without a `.tmpl` suffix. */
export function renderedName(src: string): string {
  const base = basename(src);
  const name = base.endsWith('.tmpl') && base.length > '.tmpl'.length ? base.slice(0, -'.tmpl'.length) : base;
  try {
    return validateFileName(name);
  } catch {
    throw bad(`cannot derive a file name from template ${JSON.stringify(src.slice(0, 200))} (with --template, add ,target=NAME)`);
  }
}

/** Options are taken from the end, so a path may itself contain commas. */
export function parseTemplateSpec(text: string): TemplateSpec {
  // The shortest SRC followed by the longest run of trailing `,target=...` / `,mode=...`.
  const m = /^(.*?)((?:,(?:target|mode)=[^,]*)*)$/s.exec(text);
  const opts: Partial<Record<Key, string>> = {};
  for (const opt of (m?.[2] ?? '').split(',').slice(1)) {
    const eq = opt.indexOf('=');
    const key = opt.slice(0, eq) as Key;
    if (opts[key] !== undefined) throw bad(`--template: ${key}= given twice`);
    opts[key] = opt.slice(eq + 1);
  }
  const src = m?.[1] ?? text;
  if (src.length === 0) throw bad('--template: missing the template file before the options');
  let mode: number | undefined;
  if (opts.mode !== undefined) {
    if (!/^0?[0-7]{3}$/.test(opts.mode)) throw bad(`--template: mode must be octal such as 0400, got ${JSON.stringify(opts.mode.slice(0, 16))}`);
    mode = parseInt(opts.mode, 8);
  }
  const file = opts.target !== undefined ? validateFileName(opts.target, '--template target') : renderedName(src);
  return { src, file, ...(mode !== undefined ? { mode } : {}) };
}

export interface RunTemplates {
  /** What `runProcess` delivers for the templates, next to the --secret files. */
  readonly secrets: readonly SecretSpec[];
  /** The resolver `runProcess` uses: the given one, plus the loaded templates. */
  wrap(inner: Resolver & { contentVersion?(value: SecretValue): string }): Resolver;
}

/** Reads and parses every --template (errors name FILE:LINE:COL); nothing is fetched yet. */
export function loadRunTemplates(specs: readonly string[], maxBytes: number): RunTemplates {
  const parsed = specs.map(parseTemplateSpec);
  const templates = new Map<string, Template>();
  for (const s of parsed) if (!templates.has(s.src)) templates.set(s.src, parseTemplate(readTemplatePath(s.src, maxBytes), s.src));
  return {
    secrets: parsed.map((s) => ({ target: templateTarget(s.src), file: s.file, ...(s.mode !== undefined ? { mode: s.mode } : {}) })),
    wrap: (inner) =>
      templates.size === 0
        ? inner
        : new TemplatingResolver({
            inner,
            maxBytes,
            source: (name) => {
              const t = templates.get(name);
              if (!t) throw new KeywayError('not_found', `no template ${JSON.stringify(name)} was loaded`);
              return t;
            },
          }),
  };
}
