// Shared set-up for delivery tests: a private runtime dir and state dir per test, unmounted and
// removed afterwards whatever happens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { unmountRoot } from '../../src/delivery/mount-root.js';
import { rootSkipReason } from '../helpers/tools.js';

export const ROOT_SKIP = rootSkipReason('needs root to mount tmpfs');

export interface Sandbox {
  readonly base: string;
  readonly runtimeDir: string;
  readonly stateDir: string;
}

/** A fresh base dir with runtime/ and state/ inside; cleaned up in t.after. */
export function sandbox(t: TestContext): Sandbox {
  const base = mkdtempSync(join(tmpdir(), 'keyway-delivery-'));
  const runtimeDir = join(base, 'run');
  const stateDir = join(base, 'state');
  t.after(async () => {
    await unmountRoot(runtimeDir).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });
  return { base, runtimeDir, stateDir };
}
