// Start-up of delivery for a composition root (`keyway run`, `keyway serve`): make sure the mount
// root is in place, take over the sets the caller's consumers still use (a restart while
// containers run), then sweep mount sets left by owners that died (crash, SIGKILL).
import type { Logger } from '../core/logger.js';
import type { Db } from '../store/db.js';
import { MountSetsRepo } from '../store/mount-sets.js';
import { ensureMountRoot, type MountRootInfo } from './mount-root.js';
import { MountSetManager, type MountSet } from './mount-sets.js';

export interface Delivery {
  readonly root: MountRootInfo;
  readonly manager: MountSetManager;
  /** Ids of orphaned sets removed at start-up. */
  readonly swept: readonly string[];
  /** The sets taken over from an earlier process, by id (see `adopt`). */
  readonly adopted: ReadonlyMap<string, MountSet>;
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
  /**
   * Ids of sets an earlier process of this kind created and its consumers still use (the Docker
   * plugin's recorded volume mounts): adopted before the sweep, so it spares them.
   */
  readonly adopt?: readonly string[];
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
  const adopted = new Map<string, MountSet>();
  for (const id of opts.adopt ?? []) {
    const set = manager.adopt(id);
    if (set) adopted.set(id, set);
  }
  const swept = manager.sweepOrphans(opts.sweep);
  return { root, manager, swept, adopted };
}
