// Reference paths for the vault provider: `MOUNT/SECRET` as `vault kv get MOUNT/SECRET` takes it,
// never with KV v2's `data/` or `metadata/` segment. Which leading segments form the mount is
// decided by ./index.ts (configured mounts, Vault's mount preflight, or the first segment).
import { KeywayError } from '../../core/errors.js';

export interface Location {
  /** Mount path without slashes at either end (`secret`, `team/kv`). */
  readonly mount: string;
  readonly kv: 1 | 2;
  /** Secret path inside the mount; empty only for list requests at the mount root. */
  readonly rest: string;
}

export function normalizePath(where: string, path: string, allowEmpty = false): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') {
    if (allowEmpty) return '';
    throw new KeywayError('invalid_argument', `${where}: path is empty (expected MOUNT/SECRET, e.g. secret/app)`);
  }
  for (const seg of trimmed.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') throw new KeywayError('invalid_argument', `${where}: path ${JSON.stringify(trimmed.slice(0, 128))} has an empty, "." or ".." segment`);
  }
  return trimmed;
}

/** The longest of `mounts` that is `path` or a prefix of it at a segment boundary. */
export function matchMount(mounts: Iterable<string>, path: string): string | undefined {
  let best: string | undefined;
  for (const m of mounts) {
    if ((path === m || path.startsWith(m + '/')) && (best === undefined || m.length > best.length)) best = m;
  }
  return best;
}

export function encodeSegments(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** API path for an operation: KV v2 inserts `data/`, `metadata/`, `delete/` after the mount. */
export function apiPath(loc: Location, op: 'data' | 'metadata' | 'delete'): string {
  const mount = encodeSegments(loc.mount);
  const rest = loc.rest === '' ? '' : encodeSegments(loc.rest);
  if (loc.kv === 1) return rest === '' ? mount : `${mount}/${rest}`;
  return rest === '' ? `${mount}/${op}` : `${mount}/${op}/${rest}`;
}

export function describe(loc: Location): string {
  return loc.rest === '' ? loc.mount : `${loc.mount}/${loc.rest}`;
}
