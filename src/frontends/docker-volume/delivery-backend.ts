// The production VolumeBackend: values come from the broker (cache, single-flight, audit) and are
// delivered as mount sets on the noswap tmpfs mount root.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SecretValue } from '../../core/secret-value.js';
import type { Resolver } from '../../broker/types.js';
import type { MountSet, MountSetManager } from '../../delivery/mount-sets.js';
import type { MountSetsRepo } from '../../store/mount-sets.js';
import type { DeliveredSet, VolumeBackend } from './backend.js';

export interface DeliveryBackendDeps {
  readonly resolver: Resolver & { contentVersion(value: SecretValue): string };
  readonly sets: MountSetManager;
  readonly records: MountSetsRepo;
  /** Takes over the record of a set an earlier process created (see claimMountSet). */
  readonly claim: (id: string) => boolean;
}

function delivered(set: MountSet): DeliveredSet {
  return { id: set.id, dir: set.dir, filePath: (n) => set.filePath(n), update: (f) => set.update(f), release: () => set.release() };
}

export function deliveryBackend(d: DeliveryBackendDeps): VolumeBackend {
  const identity = (frontend: string, consumer?: string) => ({ frontend, ...(consumer ? { consumer } : {}) });
  return {
    resolve: (target, ctx) => d.resolver.resolve(target, { identity: identity(ctx.frontend, ctx.consumer), signal: ctx.signal, ...(ctx.refresh ? { refresh: true } : {}) }),
    version: (target, ctx) => d.resolver.version(target, { identity: identity(ctx.frontend, ctx.consumer), signal: ctx.signal }),
    versionOf: (r) => r.version ?? d.resolver.contentVersion(r.value),
    async createSet(consumer, files, opts) {
      return delivered(await d.sets.create(consumer, files, opts));
    },
    adoptSet(id): DeliveredSet | undefined {
      const rec = d.records.get(id);
      if (!rec) return undefined;
      if (dirname(rec.path) === d.sets.root.path && rec.path === join(d.sets.root.path, id) && !existsSync(rec.path)) {
        // Gone with the tmpfs (a reboot): forget the record.
        d.records.delete(id);
        return undefined;
      }
      // Adopted sets are full sets again: rotation updates them, Unmount wipes them.
      const set = d.sets.adopt(rec);
      if (!set) return undefined;
      if (!d.claim(id)) {
        d.sets.forget(set);
        return undefined;
      }
      return delivered(set);
    },
  };
}
