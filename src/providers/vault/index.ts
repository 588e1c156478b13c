// `vault`: HashiCorp Vault and OpenBao KV secrets over Vault's HTTP API.
// This file declares the type (options, query keys, operations); ./provider.ts, its implementation,
// is imported on an instance's first operation (core/lazy-provider.ts).
import { defineProvider } from '../factory.js';
import { vaultOptions } from './config.js';

export type { VaultConfig } from './config.js';

export const vaultFactory = defineProvider({
  type: 'vault',
  description: 'HashiCorp Vault / OpenBao KV v1 and v2 (token, AppRole, Kubernetes, JWT auth)',
  options: vaultOptions,
  // With no [providers.vault] table, VAULT_ADDR / VAULT_TOKEN / VAULT_NAMESPACE are used.
  usableWithoutConfig: true,
  optionKeys: ['version', 'field', 'encoding'],
  ops: ['version', 'store', 'delete', 'list'],
  async load() {
    const { VaultProvider } = await import('../implementations.js');
    return (name, config, deps) => new VaultProvider(name, config, { env: deps.env, logger: deps.logger });
  },
});
