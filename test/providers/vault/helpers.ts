// Shared setup for vault provider tests: an emulator, a provider pointed at it, and cleanup.
import { silentLogger } from '../../../src/core/logger.js';
import { vaultFactory } from '../../../src/providers/vault/index.js';
import { VaultProvider } from '../../../src/providers/vault/provider.js';
import { VaultEmulator, type VaultEmulatorOptions } from '../../emulators/vault/server.js';

export interface TestContext {
  after(fn: () => Promise<void> | void): void;
}

export interface Setup {
  readonly emu: VaultEmulator;
  /** The provider's clock in ms; tests move it forward. */
  readonly clock: { now: number };
  provider(config?: Record<string, unknown>, env?: Record<string, string>): VaultProvider;
}

export async function setup(t: TestContext, opts: VaultEmulatorOptions = {}): Promise<Setup> {
  const emu = await VaultEmulator.start(opts);
  const providers: VaultProvider[] = [];
  t.after(async () => {
    for (const p of providers) await p.close();
    await emu.close();
  });
  const clock = { now: Date.now() };
  return {
    emu,
    clock,
    provider(config = {}, env = {}) {
      const parsed = vaultFactory.configSchema.parse({ address: emu.url, ...config });
      const p = new VaultProvider('vault', parsed, { env, logger: silentLogger(), now: () => clock.now });
      providers.push(p);
      return p;
    },
  };
}

export { req } from '../helpers.js';
