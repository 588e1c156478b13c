// Where the v1alpha1 provider API lives: proto/ in the package root. The same code runs from src/
// (tsx) and from dist/, so the root is found by walking up to keyway's package.json rather than by
// a fixed number of "..". Kept apart from proto.ts so the frontend can check for the file at start
// without loading protobufjs.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeywayError } from '../../core/errors.js';

export const PROTO_RELATIVE = join('proto', 'csi', 'v1alpha1', 'service.proto');

/** The directory holding keyway's package.json, searched upwards from `start`. */
export function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, PROTO_RELATIVE))) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'keyway') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new KeywayError('internal', `cannot find ${PROTO_RELATIVE} in any parent of ${start} (is the package installed with its proto/ folder?)`);
    dir = up;
  }
}

export function protoPath(): string {
  return join(findPackageRoot(import.meta.dirname), PROTO_RELATIVE);
}
