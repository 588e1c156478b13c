// The environment a container engine (podman, docker) is started with: its own settings taken by
// name from keyway's environment, never the rest of it. keyway's environment may hold provider
// credentials (VAULT_TOKEN, AWS_SECRET_ACCESS_KEY ...); an engine, and the long-lived processes it
// starts (rootless Podman's pause process, a plugin's container), must not carry them.

/** PATH of the container engine's own environment when no other is given. */
export const ENGINE_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * Variables the container engine needs to find its config and storage (never given to plugins):
 * XDG_CONFIG_HOME and XDG_DATA_HOME move rootless Podman's containers.conf and storage.
 */
export const ENGINE_ENV_KEYS: readonly string[] = [
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
  'CONTAINERS_REGISTRIES_CONF',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'HOME',
  'DOCKER_HOST',
];

/** The ENGINE_ENV_KEYS that are set in `env`, and nothing else (no PATH). */
export function engineEnv(env: Readonly<Record<string, string | undefined>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ENGINE_ENV_KEYS) {
    const v = env?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
