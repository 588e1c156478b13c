// `vault`: HashiCorp Vault and OpenBao KV secrets over Vault's HTTP API.
import type { ProviderFactory } from '../factory.js';
import { vaultConfigSchema, type VaultConfig } from './config.js';
import { VaultProvider } from './provider.js';

export { VaultProvider } from './provider.js';
export { vaultConfigSchema, type VaultConfig } from './config.js';

export const vaultFactory: ProviderFactory<VaultConfig> = {
  type: 'vault',
  description: 'HashiCorp Vault / OpenBao KV v1 and v2 (token, AppRole, Kubernetes, JWT auth)',
  configSchema: vaultConfigSchema,
  // With no [providers.vault] table, VAULT_ADDR / VAULT_TOKEN / VAULT_NAMESPACE are used.
  usableWithoutConfig: true,
  create(name, config, deps) {
    return new VaultProvider(name, config, { env: deps.env, logger: deps.logger });
  },
};
