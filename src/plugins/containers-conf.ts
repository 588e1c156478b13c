// Reads the plugin tables of a containers.conf: `[secrets.driver_plugins]` (Podman design doc,
// name = "/path/to/plugin") and `[secrets.providers]` (its stateless revision, same shape).
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { KeywayError, toKeywayError } from '../core/errors.js';

export interface ContainersConfPlugin {
  readonly name: string;
  readonly path: string;
  readonly table: 'driver_plugins' | 'providers';
}

export function readContainersConfPlugins(file: string): ContainersConfPlugin[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw toKeywayError(e, `containers.conf ${file}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KeywayError('invalid_argument', `containers.conf ${file} is not valid TOML: ${(e as Error).message.split('\n')[0] ?? ''}`, { cause: e });
  }
  const secrets = doc.secrets;
  if (typeof secrets !== 'object' || secrets === null) return [];
  const out: ContainersConfPlugin[] = [];
  for (const table of ['driver_plugins', 'providers'] as const) {
    const t = (secrets as Record<string, unknown>)[table];
    if (t === undefined) continue;
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new KeywayError('invalid_argument', `containers.conf ${file}: [secrets.${table}] must be a table of name = "/path"`);
    for (const [name, path] of Object.entries(t)) {
      if (typeof path !== 'string' || !path.startsWith('/')) throw new KeywayError('invalid_argument', `containers.conf ${file}: secrets.${table}.${name} must be an absolute path`);
      out.push({ name, path, table });
    }
  }
  return out;
}
