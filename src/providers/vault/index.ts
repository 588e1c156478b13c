// `vault`: HashiCorp Vault and OpenBao KV secrets over Vault's HTTP API.
import { defineProvider } from '../factory.js';
import { vaultOptions } from './config.js';
import { VaultProvider } from './provider.js';

export { VaultProvider } from './provider.js';
export type { VaultConfig } from './config.js';

export const vaultFactory = defineProvider({
  type: 'vault',
  description: 'HashiCorp Vault / OpenBao KV v1 and v2 (token, AppRole, Kubernetes, JWT auth)',
  options: vaultOptions,
  // With no [providers.vault] table, VAULT_ADDR / VAULT_TOKEN / VAULT_NAMESPACE are used.
  usableWithoutConfig: true,
  create: (name, config, deps) => new VaultProvider(name, config, { env: deps.env, logger: deps.logger }),
});
