// The production VolumeBackend: values come from the broker (cache, single-flight, audit) and are
// delivered as mount sets on the noswap tmpfs mount root. Which sets survive a restart is
// delivery's business: they were adopted when delivery was opened (src/delivery/open.ts).
import type { SecretValue } from '../../core/secret-value.js';
import type { Resolver } from '../../broker/types.js';
import type { MountSet, MountSetManager } from '../../delivery/mount-sets.js';
import type { VolumeBackend } from './backend.js';

export interface DeliveryBackendDeps {
  readonly resolver: Resolver & { contentVersion(value: SecretValue): string };
  readonly sets: MountSetManager;
}

export function deliveryBackend(d: DeliveryBackendDeps): VolumeBackend {
  return {
    resolve: (target, ctx) => d.resolver.resolve(target, ctx),
    resolveMany: (targets, ctx) => d.resolver.resolveMany(targets, ctx),
    version: (target, ctx) => d.resolver.version(target, ctx),
    versionOf: (r) => r.version ?? d.resolver.contentVersion(r.value),
    createSet: (consumer, files, opts): Promise<MountSet> => d.sets.create(consumer, files, opts),
    adoptSet: (id) => d.sets.adopt(id),
  };
}
