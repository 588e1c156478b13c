// Reads and validates the TOML config. Errors are one line each: file, key path, what was expected.
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { KeywayError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';

export function formatZodIssues(where: string, error: z.ZodError, prefix: readonly PropertyKey[] = []): string {
  return error.issues
    .map((issue) => {
      const path = [...prefix, ...issue.path].map(String).join('.') || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `${path === '(top level)' ? '' : path + '.'}${k}`);
        return `${where}: unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
      }
      return `${where}: ${path}: ${issue.message}`;
    })
    .join('; ');
}

export function parseConfig(text: string, where: string): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    const line = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : '';
    throw new KeywayError('invalid_argument', `config ${where}: not valid TOML${line}`, { cause: e });
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new KeywayError('invalid_argument', `config ${formatZodIssues(where, result.error)}`);
  return result.data;
}

/** Loads the file; a missing file is fine unless it was named explicitly. */
export function loadConfig(path: string, explicit: boolean): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return configSchema.parse({});
    throw new KeywayError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'failed_precondition', `config ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  return parseConfig(text, path);
}
