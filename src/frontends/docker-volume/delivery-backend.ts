// The production VolumeBackend: values come from the broker (cache, single-flight, audit) and are
// delivered as mount sets on the noswap tmpfs mount root.
import { lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeywayError } from '../../core/errors.js';
import { validateFileName } from '../../core/names.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { Resolver } from '../../broker/types.js';
import { destroySetDir } from '../../delivery/atomic-writer.js';
import type { MountSetManager } from '../../delivery/mount-sets.js';
import type { MountSetsRepo } from '../../store/mount-sets.js';
import type { DeliveredSet, VolumeBackend } from './backend.js';

export interface DeliveryBackendDeps {
  readonly resolver: Resolver & { contentVersion(value: SecretValue): string };
  readonly sets: MountSetManager;
  readonly records: MountSetsRepo;
  /** Takes over the record of a set an earlier process created (see claimMountSet). */
  readonly claim: (id: string) => boolean;
}

export function deliveryBackend(d: DeliveryBackendDeps): VolumeBackend {
  const identity = (frontend: string, consumer?: string) => ({ frontend, ...(consumer ? { consumer } : {}) });
  return {
    resolve: (target, ctx) => d.resolver.resolve(target, { identity: identity(ctx.frontend, ctx.consumer), signal: ctx.signal, ...(ctx.refresh ? { refresh: true } : {}) }),
    version: (target, ctx) => d.resolver.version(target, { identity: identity(ctx.frontend, ctx.consumer), signal: ctx.signal }),
    versionOf: (r) => r.version ?? d.resolver.contentVersion(r.value),
    async createSet(consumer, files, opts) {
      const set = await d.sets.create(consumer, files, opts);
      return { id: set.id, dir: set.dir, filePath: (n) => set.filePath(n), update: (f) => set.update(f), release: () => set.release() };
    },
    adoptSet(id): DeliveredSet | undefined {
      const rec = d.records.get(id);
      if (!rec) return undefined;
      if (dirname(rec.path) !== d.sets.root.path || rec.path !== join(d.sets.root.path, id)) return undefined;
      try {
        const st = lstatSync(rec.path);
        if (!st.isDirectory()) return undefined;
      } catch {
        d.records.delete(id);
        return undefined;
      }
      if (!d.claim(id)) return undefined;
      let released = false;
      return {
        id,
        dir: rec.path,
        filePath: (n) => join(rec.path, validateFileName(n)),
        update: () => Promise.reject(new KeywayError('unsupported', `mount set ${id} was adopted from an earlier keyway process and is not rotated; remount to refresh`)),
        release() {
          if (released) return;
          destroySetDir(rec.path);
          d.records.delete(id);
          released = true;
        },
      };
    },
  };
}
