// A real Broker over a real SQLite store and audit log in a temp dir (removed after the test),
// serving the given provider instances, optionally next to the `local` provider for literal named
// secrets. Policy, clock, metrics and logger are the caller's to choose; the rest is the same
// wiring the daemon does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import type { Provider } from '../../src/core/provider.js';
import { Broker } from '../../src/broker/broker.js';
import type { Clock } from '../../src/broker/clock.js';
import type { BrokerMetrics } from '../../src/broker/metrics.js';
import { NamedSecrets } from '../../src/broker/named-secrets.js';
import { DEFAULT_POLICY, type ProviderPolicy } from '../../src/broker/policy.js';
import { ProviderRegistry } from '../../src/broker/registry.js';
import { AuditLog } from '../../src/store/audit.js';
import { BlobsRepo } from '../../src/store/blobs.js';
import { openDb, type Db } from '../../src/store/db.js';
import { SecretsRepo } from '../../src/store/secrets.js';
import { LocalProvider } from '../../src/providers/local/index.js';

/** No value or negative cache, no retries, no breaker: every resolve reaches the provider once. */
export const UNCACHED_POLICY: ProviderPolicy = { ...DEFAULT_POLICY, ttlMs: 0, negativeTtlMs: 0, retries: 0, breakerThreshold: 1_000_000 };

export interface TestBrokerOptions {
  /** Adds the `local` provider (encrypted blobs in the same store), as the daemon always has. */
  readonly local?: boolean;
  readonly maxSecretBytes?: number;
  readonly defaultPolicy?: ProviderPolicy;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly metrics?: BrokerMetrics;
  readonly prefix?: string;
}

export interface TestBroker {
  readonly dir: string;
  readonly stateDir: string;
  readonly db: Db;
  readonly broker: Broker;
  readonly named: NamedSecrets;
  readonly secrets: SecretsRepo;
  readonly audit: AuditLog;
}

export function testBroker(t: { after: (fn: () => void) => void }, providers: readonly Provider[], opts: TestBrokerOptions = {}): TestBroker {
  const dir = mkdtempSync(join(tmpdir(), opts.prefix ?? 'kw-broker-'));
  const stateDir = join(dir, 'state');
  const db = openDb(stateDir);
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const byName = new Map<string, Provider>(providers.map((p) => [p.name, p]));
  if (opts.local) byName.set('local', new LocalProvider('local', new BlobsRepo(db), join(stateDir, 'local.key')));
  const registry = new ProviderRegistry([{ get: (n) => byName.get(n), has: (n) => byName.has(n), names: () => [...byName.keys()] }]);
  const secrets = new SecretsRepo(db);
  const audit = new AuditLog(db);
  const maxSecretBytes = opts.maxSecretBytes ?? 1 << 20;
  const { defaultPolicy, clock, metrics } = opts;
  const broker = new Broker({ registry, secrets, audit, logger: opts.logger ?? silentLogger(), maxSecretBytes, defaultPolicy, clock, metrics });
  return { dir, stateDir, db, broker, named: new NamedSecrets(broker, secrets, audit, maxSecretBytes), secrets, audit };
}
