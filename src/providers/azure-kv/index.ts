// `azure-kv`: Azure Key Vault secrets over the documented REST API (api-version 7.4), no SDK.
// Paths: `SECRET[/VERSION]` with vault_url configured, else `VAULT/SECRET[/VERSION]`.
// Options: version, encoding (text | base64). Authentication follows the vault's 401 challenge.
// This file declares the type (options, query keys, operations); ./provider.ts, its implementation,
// is imported on an instance's first operation (core/lazy-provider.ts).
import type { z as zod } from 'zod';
import { defineProvider } from '../factory.js';
import { absolutePath, httpUrl, requestTimeoutMs, z } from '../kit/options.js';

const azureKvOptions = () => z.strictObject({
  /** The vault, e.g. https://myvault.vault.azure.net; without it, paths start with the vault name. */
  vault_url: httpUrl().optional(),
  /** DNS suffix for vault names in paths (sovereign clouds: vault.azure.cn, vault.usgovcloudapi.net). */
  dns_suffix: z.string().regex(/^[a-z0-9.-]+$/).default('vault.azure.net'),
  api_version: z.string().regex(/^[0-9][0-9a-z.-]*$/).default('7.4'),
  /** `auto`: client secret if one is configured, else workload identity if a federated token file is, else managed identity. */
  auth: z.enum(['auto', 'client_secret', 'workload_identity', 'managed_identity']).default('auto'),
  tenant_id: z.string().regex(/^[A-Za-z0-9.-]{1,100}$/).optional(),
  client_id: z.string().min(1).max(100).optional(),
  /** File holding the client secret (keeps it out of config and env). */
  client_secret_file: absolutePath().optional(),
  federated_token_file: absolutePath().optional(),
  /** Entra ID authority; default AZURE_AUTHORITY_HOST or https://login.microsoftonline.com. */
  authority_host: httpUrl().optional(),
  /** Instance metadata service for managed identity. */
  imds_endpoint: httpUrl().default('http://169.254.169.254'),
  /** Check that the challenge's resource belongs to the vault's domain. */
  verify_challenge_resource: z.boolean().default(true),
  timeout_ms: requestTimeoutMs(),
});
export type AzureKvConfig = zod.infer<ReturnType<typeof azureKvOptions>>;

export const azureKvFactory = defineProvider({
  type: 'azure-kv',
  description: 'Azure Key Vault secrets (REST 7.4; client secret, workload identity or managed identity, 401 challenge)',
  options: azureKvOptions,
  usableWithoutConfig: true,
  optionKeys: ['version', 'encoding'],
  ops: ['version'],
  async load() {
    const { AzureKvProvider } = await import('../implementations.js');
    return (name, config, deps) => new AzureKvProvider(name, config, deps.env);
  },
});
