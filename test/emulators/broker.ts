// A real Broker (real SQLite store and audit log) around one provider instance, so provider tests
// exercise fragment selection and error normalisation exactly as frontends see them. Caching,
// retries and the circuit breaker are off: each resolve must reach the emulator.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import type { Provider } from '../../src/core/provider.js';
import { Broker } from '../../src/broker/broker.js';
import { DEFAULT_POLICY } from '../../src/broker/policy.js';
import { ProviderRegistry } from '../../src/broker/registry.js';
import { openDb } from '../../src/store/db.js';
import { SecretsRepo } from '../../src/store/secrets.js';
import { AuditLog } from '../../src/store/audit.js';

export function brokerFor(t: { after: (fn: () => void) => void }, provider: Provider): Broker {
  const dir = mkdtempSync(join(tmpdir(), 'kw-cloud-broker-'));
  const db = openDb(join(dir, 'state'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const registry = new ProviderRegistry([{ get: (n) => (n === provider.name ? provider : undefined), has: (n) => n === provider.name, names: () => [provider.name] }]);
  return new Broker({ registry, secrets: new SecretsRepo(db), audit: new AuditLog(db), logger: silentLogger(), maxSecretBytes: 1 << 20, defaultPolicy: { ...DEFAULT_POLICY, ttlMs: 0, negativeTtlMs: 0, retries: 0, breakerThreshold: 1_000_000 } });
}

export const testCtx = (signal: AbortSignal = new AbortController().signal) => ({ identity: { frontend: 'test' }, signal });

/** Asserts-friendly predicate: a KeywayError-like value with this code whose message lacks `secret`. */
export function isCode(code: string, secret?: string) {
  return (e: unknown): boolean => {
    const err = e as { code?: unknown; message?: unknown; stack?: unknown };
    if (err.code !== code) throw new Error(`expected code ${code}, got ${String(err.code)}: ${String(err.message)}`);
    if (secret !== undefined && (String(err.message).includes(secret) || String(err.stack).includes(secret))) throw new Error('the error message contains the secret value');
    return true;
  };
}
