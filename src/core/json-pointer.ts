// Selects a field from a structured secret (JSON, or YAML when the payload is not JSON).
// The parsed document is a JS object whose strings cannot be wiped; the selected field is copied
// into a fresh SecretValue and the source value is left to the caller to zero.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { KeywayError } from './errors.js';
import { SecretValue } from './secret-value.js';
import { formatPointer } from './reference.js';

// yaml costs tens of milliseconds to load; only a non-JSON document with a fragment needs it.
const require = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (require('yaml') as typeof Yaml).parse(text, { prettyErrors: false });
}

function parseDocument(value: SecretValue, where: string): unknown {
  const text = value.expose().toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // fall through to YAML
  }
  try {
    const doc: unknown = parseYaml(text);
    if (doc !== null && typeof doc === 'object') return doc;
  } catch {
    // reported below without echoing the parser's message, which quotes the input
  }
  throw new KeywayError('invalid_argument', `${where}: the secret is not a JSON or YAML document, so a fragment cannot select from it`);
}

export function selectPointer(value: SecretValue, pointer: readonly string[], where: string): SecretValue {
  let node = parseDocument(value, where);
  for (let i = 0; i < pointer.length; i++) {
    const tok = pointer[i] ?? '';
    const at = formatPointer(pointer.slice(0, i + 1));
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(tok) || Number(tok) >= node.length) throw new KeywayError('not_found', `${where}: no element ${at} in the secret`);
      node = node[Number(tok)] as unknown;
    } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, tok)) {
      node = (node as Record<string, unknown>)[tok];
    } else {
      throw new KeywayError('not_found', `${where}: no field ${at} in the secret`);
    }
  }
  if (typeof node === 'string') return SecretValue.fromString(node);
  if (node === undefined) throw new KeywayError('not_found', `${where}: the selected field is undefined`);
  return SecretValue.fromString(JSON.stringify(node));
}
