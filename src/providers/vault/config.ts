// Options of `[providers.NAME] type = "vault"` and how unset ones fall back to the standard Vault
// environment variables (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_TLS_SERVER_NAME).
import type { z as zod } from 'zod';
import { KeywayError } from '../../core/errors.js';
import { providerLabel } from '../../core/provider.js';

import { absolutePath, z } from '../kit/options.js';

const mountName = () => z.string().regex(/^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/, { message: 'expected a mount path such as "approle" or "auth-team/k8s"' });
const kvVersion = () => z.union([z.literal(1), z.literal(2)]);

const vaultAuthOptions = () => z.discriminatedUnion('method', [
  // A token from `token_file` (re-read when Vault rejects the old one), else from VAULT_TOKEN.
  z.strictObject({ method: z.literal('token'), token_file: absolutePath().optional() }),
  z.strictObject({
    method: z.literal('approle'),
    mount: mountName().default('approle'),
    role_id: z.string().min(1).optional(),
    role_id_file: absolutePath().optional(),
    secret_id_file: absolutePath().optional(),
  }),
  z.strictObject({
    method: z.literal('kubernetes'),
    mount: mountName().default('kubernetes'),
    role: z.string().min(1),
    /** Used when the request carries no workload token for `audience`. */
    jwt_file: absolutePath().default('/var/run/secrets/kubernetes.io/serviceaccount/token'),
    audience: z.string().min(1).default('vault'),
  }),
  z.strictObject({
    method: z.literal('jwt'),
    mount: mountName().default('jwt'),
    role: z.string().min(1),
    jwt_file: absolutePath().optional(),
    audience: z.string().min(1).default('vault'),
  }),
]);

/** The strict schema of `[providers.NAME] type = "vault"`; built when first needed. */
export const vaultOptions = () => z.strictObject({
  address: z.string().regex(/^https?:\/\/[^\s/]+(\/.*)?$/, { message: 'expected an http:// or https:// URL' }).optional(),
  namespace: z.string().min(1).optional(),
  ca_file: absolutePath().optional(),
  tls_server_name: z.string().min(1).optional(),
  /** KV version to assume when the mount cannot be detected (no permission on sys/internal/ui/mounts). */
  kv_version: kvVersion().optional(),
  /** Known KV mounts and their versions; skips detection for paths under them. */
  mounts: z.record(mountName(), kvVersion()).optional(),
  /** Ask Vault which mount (and KV version) a path belongs to. */
  detect_mounts: z.boolean().default(true),
  auth: vaultAuthOptions().optional(),
});

export type VaultConfig = zod.infer<ReturnType<typeof vaultOptions>>;
export type VaultAuthConfig = zod.infer<ReturnType<typeof vaultAuthOptions>>;

/** Config with environment fallbacks applied; what the client actually uses. */
export interface VaultSettings {
  readonly address: URL;
  readonly namespace?: string;
  readonly caFile?: string;
  readonly tlsServerName?: string;
  readonly kvVersion: 1 | 2;
  readonly mounts: ReadonlyMap<string, 1 | 2>;
  readonly detectMounts: boolean;
  readonly auth: VaultAuthConfig | { method: 'env-token' };
  /** VAULT_TOKEN from the environment snapshot, when auth uses it. */
  readonly envToken?: string;
}

export function settingsFrom(name: string, config: VaultConfig, env: Readonly<Record<string, string | undefined>>): VaultSettings {
  const addr = config.address ?? env.VAULT_ADDR;
  if (!addr) throw new KeywayError('failed_precondition', `${providerLabel('vault', name)}: no address (set address in [providers.${name}] or VAULT_ADDR)`);
  let address: URL;
  try {
    address = new URL(addr);
  } catch {
    throw new KeywayError('invalid_argument', `${providerLabel('vault', name)}: address is not a URL`);
  }
  if (address.protocol !== 'http:' && address.protocol !== 'https:') throw new KeywayError('invalid_argument', `${providerLabel('vault', name)}: address must be http:// or https://`);
  const caFile = config.ca_file ?? env.VAULT_CACERT;
  const tlsServerName = config.tls_server_name ?? env.VAULT_TLS_SERVER_NAME;
  const namespace = (config.namespace ?? env.VAULT_NAMESPACE)?.replace(/^\/+|\/+$/g, '');
  const auth = config.auth ?? { method: 'env-token' as const };
  const envToken = auth.method === 'env-token' || (auth.method === 'token' && !auth.token_file) ? env.VAULT_TOKEN : undefined;
  const mounts = new Map<string, 1 | 2>();
  for (const [m, v] of Object.entries(config.mounts ?? {})) mounts.set(m.replace(/\/+$/, ''), v);
  return {
    address,
    ...(namespace ? { namespace } : {}),
    ...(caFile ? { caFile } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    kvVersion: config.kv_version ?? 2,
    mounts,
    detectMounts: config.detect_mounts,
    auth,
    ...(envToken ? { envToken } : {}),
  };
}
