// The `objects` parameter of a SecretProviderClass: a YAML list of
// {objectName, ref | secret | template, mode}; a template is a file in the templates dir.
// The Azure-style form `array: [ "<yaml of one object>", ... ]` is accepted too, since people copy
// SecretProviderClasses between providers. Parse errors report a position, never the text: a YAML
// library's "pretty" error would quote the offending line.
import { parseDocument } from 'yaml';
import { KeywayError } from '../../core/errors.js';
import { validateSecretName } from '../../core/names.js';
import { isReference } from '../../core/reference.js';
import { checkTemplateName } from '../../templates/files.js';
import { templateTarget } from '../../templates/resolver.js';
import { checkDistinctNames, validateObjectName } from './object-name.js';

export interface CsiObject {
  readonly objectName: string;
  /** What the resolver is asked for: a named secret NAME, a `ref+...` reference or `template=FILE`. */
  readonly target: string;
  /** Explicit file mode, if the object sets one. */
  readonly mode?: number;
}

const FIELDS = ['objectName', 'ref', 'secret', 'template', 'mode'] as const;
export const MAX_OBJECTS = 1000;

function bad(message: string): KeywayError {
  return new KeywayError('invalid_argument', message);
}

/** Parses one YAML 1.1 document; errors give a position only. `maxAliases` 0 forbids aliases. */
export function parseYaml(text: string, what: string, maxAliases = 100): unknown {
  // YAML 1.1 like Kubernetes manifests, so `mode: 0400` is octal 256 and not decimal 400.
  const doc = parseDocument(text, { version: '1.1', uniqueKeys: true, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const offset = err.pos[0];
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const col = offset - before.lastIndexOf('\n');
    throw bad(`${what} is not valid YAML or JSON (${err.code} at line ${line}, column ${col})`);
  }
  try {
    return doc.toJS({ maxAliasCount: maxAliases });
  } catch {
    throw bad(`${what} is not valid YAML or JSON (it cannot be converted to plain data)`);
  }
}

/** A file mode: an integer (YAML `0400` is octal) or an octal string such as "0440". */
export function parseMode(value: unknown, what: string): number {
  let mode: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) mode = value;
  else if (typeof value === 'string' && /^0?[0-7]{3}$/.test(value)) mode = parseInt(value, 8);
  if (mode === undefined || mode < 0 || mode > 0o777) throw bad(`${what} must be a file mode from 0001 to 0777 (an octal string such as "0440", or YAML 0440)`);
  // The driver applies the mode exactly: 0 would give the pod a file nobody can read.
  if (mode === 0) throw bad(`${what} is 0, which would make the file unreadable`);
  return mode;
}

function parseEntry(raw: unknown, index: number): CsiObject {
  const at = `objects[${index}]`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw bad(`${at} must be a mapping with objectName and ref or secret`);
  const entry = raw as Record<string, unknown>;
  const unknown = Object.keys(entry).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw bad(`${at} has unknown field ${JSON.stringify(unknown[0]?.slice(0, 64))} (allowed: ${FIELDS.join(', ')})`);
  const objectName = validateObjectName(entry['objectName'], index);
  const ref = entry['ref'];
  const secret = entry['secret'];
  const template = entry['template'];
  if ([ref, secret, template].filter((v) => v !== undefined).length !== 1) throw bad(`${at} (${JSON.stringify(objectName)}) must have exactly one of ref or secret (or a template instead)`);
  let target: string;
  if (template !== undefined) {
    target = templateTarget(checkTemplateName(template, `${at}.template`));
  } else if (ref !== undefined) {
    if (typeof ref !== 'string' || !isReference(ref)) throw bad(`${at} (${JSON.stringify(objectName)}): ref must be a string starting with "ref+"`);
    target = ref;
  } else {
    if (typeof secret !== 'string') throw bad(`${at} (${JSON.stringify(objectName)}): secret must be a string naming a keyway secret`);
    target = validateSecretName(secret, `${at}.secret`);
  }
  const mode = entry['mode'] === undefined ? undefined : parseMode(entry['mode'], `${at}.mode`);
  return { objectName, target, ...(mode !== undefined ? { mode } : {}) };
}

// The driver re-sends the same SecretProviderClass on every mount and rotation poll, and YAML
// parsing costs far more than the rest of a cached mount; parsed lists (no secrets in them) are
// kept by exact text.
const CACHE_MAX = 128;
const parsedCache = new Map<string, readonly CsiObject[]>();

/** Parses and validates the whole list before anything is fetched. */
export function parseObjects(text: string | undefined): readonly CsiObject[] {
  if (text !== undefined) {
    const hit = parsedCache.get(text);
    if (hit) {
      parsedCache.delete(text);
      parsedCache.set(text, hit);
      return hit;
    }
  }
  const objects = Object.freeze(parseObjectsUncached(text).map((o) => Object.freeze(o)));
  if (text !== undefined) {
    parsedCache.set(text, objects);
    if (parsedCache.size > CACHE_MAX) parsedCache.delete(parsedCache.keys().next().value ?? '');
  }
  return objects;
}

function parseObjectsUncached(text: string | undefined): CsiObject[] {
  if (text === undefined || text.trim() === '') throw bad('parameter "objects" is missing or empty (a YAML list of {objectName, ref | secret, mode})');
  let list = parseYaml(text, 'parameter "objects"');
  if (list !== null && typeof list === 'object' && !Array.isArray(list) && Object.keys(list).length === 1 && 'array' in list) {
    const items = list.array;
    if (!Array.isArray(items)) throw bad('parameter "objects": "array" must be a list');
    list = items.map((item, i) => (typeof item === 'string' ? parseYaml(item, `objects array[${i}]`) : item));
  }
  if (!Array.isArray(list)) throw bad('parameter "objects" must be a YAML list of {objectName, ref | secret, mode}');
  if (list.length === 0) throw bad('parameter "objects" is an empty list (the driver needs at least one object)');
  // A hard ceiling before any entry is parsed; csi.max_objects (at most this) may be lower.
  if (list.length > MAX_OBJECTS) throw new KeywayError('too_large', `parameter "objects" has ${list.length} entries (at most ${MAX_OBJECTS})`);
  const objects = list.map((raw, i) => parseEntry(raw, i));
  checkDistinctNames(objects.map((o) => o.objectName));
  return objects;
}
