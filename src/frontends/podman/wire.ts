// Builds the Podman driver from the broker and the store, for the CLI and `keyway serve`.
import { LOCAL_PROVIDER, NAMED_SECRET_PROVIDER, type Broker } from '../../broker/broker.js';
import { KeywayError } from '../../core/errors.js';
import { formatReference, parseReference } from '../../core/reference.js';
import type { AuditLog } from '../../store/audit.js';
import type { Db } from '../../store/db.js';
import { PodmanSecretsRepo } from '../../store/podman-secrets.js';
import { PodmanDriver } from './driver.js';

export interface PodmanWiring {
  readonly db: Db;
  readonly broker: Broker;
  readonly audit: AuditLog;
}

/** Parse, then check that the provider exists and accepts the options (without fetching). */
export function checkReference(broker: Broker, text: string): string {
  const ref = parseReference(text);
  if (ref.provider === NAMED_SECRET_PROVIDER) broker.target(text);
  else broker.checkOptions(ref);
  return formatReference(ref);
}

export function podmanDriverFrom(w: PodmanWiring, frontend = 'podman'): PodmanDriver {
  return new PodmanDriver({
    records: new PodmanSecretsRepo(w.db),
    resolver: w.broker,
    blobs: () => {
      const p = w.broker.registry.get(LOCAL_PROVIDER);
      if (!p.store) throw new KeywayError('unsupported', `provider "${LOCAL_PROVIDER}" cannot store values`);
      return { store: p.store.bind(p), ...(p.delete ? { delete: p.delete.bind(p) } : {}) };
    },
    blobProvider: LOCAL_PROVIDER,
    checkRef: (ref) => checkReference(w.broker, ref),
    audit: (e) => w.audit.record({ ...e, frontend }),
    frontend,
  });
}
