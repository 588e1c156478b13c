// Reads and validates the TOML config. Errors are one line each: file, key path, what was expected.
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { KeywayError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';

const TOML_TYPES: Record<string, string> = { object: 'a table', record: 'a table', array: 'an array', string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', undefined: 'nothing' };

/**
 * zod's default wording ("Invalid input", "Invalid input: expected int, received number") in TOML
 * terms: every message says what was expected and, where zod knows it, what was found.
 */
function expectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_key') return `not a valid name: ${issue.issues.map((i) => i.message).join('; ')}`;
  const typed = /^Invalid input: expected (\w+), received (\w+)$/.exec(issue.message);
  if (typed) return `expected ${TOML_TYPES[typed[1] ?? ''] ?? typed[1]}, got ${TOML_TYPES[typed[2] ?? ''] ?? typed[2]}`;
  const stripped = issue.message.replace(/^(Invalid option|Too small|Too big|Invalid string|Invalid input): /, '');
  if (stripped === 'Invalid input') return 'not a value of the expected kind (docs/config.md lists what each key takes)';
  return stripped.replace(/expected number to be ([<>]=?)(\S+)/, 'expected a number $1 $2');
}

export function formatZodIssues(where: string, error: z.ZodError, prefix: readonly PropertyKey[] = []): string {
  return error.issues
    .map((issue) => {
      const path = [...prefix, ...issue.path].map(String).join('.') || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => `${path === '(top level)' ? '' : path + '.'}${k}`);
        return `${where}: unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
      }
      return `${where}: ${path}: ${expectation(issue)}`;
    })
    .join('; ');
}

/** A bare number with a leading zero (`default_mode = 0440`) is not TOML: say how to write a mode. */
function tomlHint(text: string, e: unknown): string {
  if (!(e instanceof TomlError)) return '';
  const line = text.split('\n')[e.line - 1] ?? '';
  const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*(0[0-7]+)\s*(#.*)?$/.exec(line);
  const [, key, digits] = m ?? [];
  if (key === undefined || digits === undefined) return '';
  return ` (${key} = ${digits}: a number with a leading zero is not TOML; write the mode quoted, "${digits}", or as TOML octal, 0o${digits.replace(/^0+/, '')})`;
}

export function parseConfig(text: string, where: string): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    const line = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : '';
    throw new KeywayError('invalid_argument', `config ${where}: not valid TOML${line}${tomlHint(text, e)}`, { cause: e });
  }
  return validated(raw, where);
}

function validated(raw: unknown, where: string): Config {
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
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return validated({}, path);
    throw new KeywayError((e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not_found' : 'failed_precondition', `config ${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  return parseConfig(text, path);
}
