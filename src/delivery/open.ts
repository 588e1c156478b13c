// Start-up of delivery for a composition root (`keyway run`, `keyway serve`): make sure the mount
// root is in place, then sweep mount sets left by owners that died (crash, SIGKILL).
import type { Logger } from '../core/logger.js';
import type { Db } from '../store/db.js';
import { MountSetsRepo } from '../store/mount-sets.js';
import { ensureMountRoot, type MountRootInfo } from './mount-root.js';
import { MountSetManager } from './mount-sets.js';

export interface Delivery {
  readonly root: MountRootInfo;
  readonly manager: MountSetManager;
  /** Ids of orphaned sets removed at start-up. */
  readonly swept: readonly string[];
}

export interface OpenDeliveryOptions {
  readonly runtimeDir: string;
  readonly db: Db;
  readonly logger: Logger;
  readonly allowInsecure?: boolean;
  /** Try to mount the root (default: when running as root). */
  readonly mount?: boolean;
  readonly size?: string;
  readonly signal?: AbortSignal;
  /** Which orphans this opener may sweep, by consumer (default: all). */
  readonly sweep?: (consumer: string) => boolean;
}

export async function openDelivery(opts: OpenDeliveryOptions): Promise<Delivery> {
  const root = await ensureMountRoot({
    runtimeDir: opts.runtimeDir,
    ...(opts.allowInsecure !== undefined ? { allowInsecure: opts.allowInsecure } : {}),
    ...(opts.size !== undefined ? { size: opts.size } : {}),
    ...(opts.mount !== undefined ? { mount: opts.mount } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  });
  if (root.protection === 'weak') opts.logger.warn({ root: root.path, reason: root.reason }, 'delivery mount root is weak: secrets may be swapped to disk');
  const manager = new MountSetManager({ root, repo: new MountSetsRepo(opts.db), logger: opts.logger });
  const swept = manager.sweepOrphans(opts.sweep);
  return { root, manager, swept };
}
