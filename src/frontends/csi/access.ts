// Which namespaces may mount which secrets. Any pod in any namespace can write a
// SecretProviderClass naming any target, so without a policy every namespace reads everything the
// node's keyway can reach. A policy maps a namespace (or "*" for all) to patterns: an exact target,
// or a prefix ending in "*". Targets are compared in canonical form so that spelling a reference
// differently (percent-escapes, `ref+secret://NAME` for NAME, a fragment) neither grants nor evades.
import { KeywayError } from '../../core/errors.js';
import { formatReference, isReference, parseReference } from '../../core/reference.js';
import type { CsiObject } from './objects.js';

export type AccessPolicy = Readonly<Record<string, readonly string[]>>;

const NAMED = 'secret';

/** The canonical subject of a target: a secret name, or a reference without its fragment. */
export function accessSubject(target: string): string {
  if (!isReference(target)) return target;
  const ref = parseReference(target);
  if (ref.path.split('/').some((seg) => seg === '.' || seg === '..')) {
    // A backend may normalise `a/../b`; a prefix rule must not be escaped that way.
    throw new KeywayError('permission_denied', 'reference path has a "." or ".." segment, which the CSI access policy does not allow');
  }
  if (ref.provider === NAMED && Object.keys(ref.query).length === 0) return ref.path;
  const { pointer: _pointer, ...whole } = ref;
  return formatReference(whole);
}

function matches(pattern: string, subject: string): boolean {
  return pattern.endsWith('*') ? subject.startsWith(pattern.slice(0, -1)) : subject === pattern;
}

/** Throws `permission_denied` naming the first object the pod's namespace may not mount. */
export function checkAccess(policy: AccessPolicy | undefined, namespace: string | undefined, objects: readonly CsiObject[]): void {
  if (!policy) return;
  const patterns = [...(policy['*'] ?? []), ...(namespace !== undefined ? (policy[namespace] ?? []) : [])];
  for (const o of objects) {
    const subject = accessSubject(o.target);
    if (!patterns.some((p) => matches(p, subject))) {
      const who = namespace !== undefined ? `namespace ${JSON.stringify(namespace)}` : 'a pod without a namespace attribute';
      throw new KeywayError('permission_denied', `object ${JSON.stringify(o.objectName)}: ${who} may not mount it ([csi.access] allows no matching pattern)`);
    }
  }
}
