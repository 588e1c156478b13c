// local against a real store (SQLite) and key file in a temporary state directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretValue } from '../../../src/core/secret-value.js';
import { localFactory } from '../../../src/providers/local/index.js';
import { openDb } from '../../../src/store/db.js';
import type { ContractHarness } from './harness.js';

export const local: ContractHarness = {
  type: 'local',
  skip: false,
  unsupported: {
    denied: 'local has no identities: whoever runs the daemon reads every value (the key file and store are 0600)',
    outage: 'local reads an in-process SQLite store; there is no backend to go down',
    hang: 'local lookups are synchronous SQLite reads that cannot hang; an already aborted signal is still honoured',
    oversize: 'local values are capped when stored (broker max_secret_bytes), so none is too large to read',
  },
  async setup(t) {
    const dir = mkdtempSync(join(tmpdir(), 'kw-contract-local-'));
    const stateDir = join(dir, 'state');
    const db = openDb(stateDir);
    t.after(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const provider = localFactory.create('local', localFactory.configSchema.parse({}), { db, stateDir, env: {}, logger: undefined as never });
    const put = async (name: string, value: string | Buffer) => {
      await provider.store?.({ path: name, value: typeof value === 'string' ? SecretValue.fromString(value) : SecretValue.copyOf(value), options: {}, signal: new AbortController().signal });
      return { path: name };
    };
    return {
      provider,
      putText: put,
      putBinary: put,
      missing: { path: 'nosuchblob' },
    };
  },
};
