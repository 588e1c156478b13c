// A provider holding values in memory, with a switch to fail like a backend outage and a count of
// lookups, for tests of the broker and the frontends built on it.
import { KeywayError } from '../../src/core/errors.js';
import type { Provider, ProviderRequest } from '../../src/core/provider.js';
import { SecretValue } from '../../src/core/secret-value.js';

export class MemoryProvider implements Provider {
  readonly type = 'memory';
  readonly optionKeys = ['version'];
  readonly values = new Map<string, string>();
  /** While true, every lookup fails with `unavailable`. */
  down = false;
  calls = 0;
  constructor(readonly name = 'mem') {}
  async lookup(req: ProviderRequest): Promise<SecretValue> {
    this.calls++;
    if (this.down) throw new KeywayError('unavailable', `${this.name}: backend unreachable`);
    const v = this.values.get(req.path);
    if (v === undefined) throw new KeywayError('not_found', `${this.name}: no secret at ${req.path}`);
    return SecretValue.fromString(v);
  }
}
