// `keyway run` end to end for provider tests: one secret delivered to the inspecting child, which
// reports what it saw in its credentials directory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instance } from '../helpers/cli.js';
import { rootSkipReason } from '../helpers/tools.js';

export const CHILD = join(import.meta.dirname, '..', 'delivery', 'fixtures', 'child.mjs');
export const ROOT_SKIP = rootSkipReason('keyway run mounts a tmpfs and needs root');

/** Runs `keyway run --secret SPEC` (target db_password); checks the value and its mode, and that stderr does not quote it. */
export async function runDelivers(i: Instance, spec: string, expected: string): Promise<void> {
  const out = join(i.dir, 'inspect.json');
  const r = await i.runAsync(['run', '--secret', `${spec},target=db_password`, '--', process.execPath, CHILD, 'inspect', 'db_password', out]);
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { content: string; mode: number };
  assert.equal(seen.content, expected);
  assert.equal(seen.mode, 0o400);
  assert.ok(!r.stderr.includes(expected));
}
