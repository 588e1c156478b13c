// Wires the plugin catalog into the composition root: host dependencies from config (limits,
// plugin_dir, paths to hide from plugins) and an audit record for every launch.
import type { Logger } from '../core/logger.js';
import type { Config } from '../config/schema.js';
import type { AuditLog } from '../store/audit.js';
import { DB_FILE } from '../store/db.js';
import { PluginsRepo } from '../store/plugins.js';
import type { Db } from '../store/db.js';
import { defaultKeyPath } from '../providers/local/index.js';
import { PluginCatalog } from '../plugins/catalog.js';
import type { HostDeps } from '../plugins/host/launcher.js';
import { pluginProviders, type PluginProviderSource } from '../plugins/provider.js';
import { join } from 'node:path';
import { KeywayError } from '../core/errors.js';
import { resolveUserBinds } from '../plugins/host/binds.js';
import { engineEnv } from '../core/process/engine-env.js';

export interface PluginWiring {
  readonly logger: Logger;
  readonly config: Config;
  readonly stateDir: string;
  /** Runtime dir (sockets, mount root) and config file: hidden from plugins too. */
  readonly runtimeDir?: string;
  readonly configPath?: string;
  readonly isRoot: boolean;
  readonly audit?: AuditLog;
  readonly frontend?: string;
  /** keyway's environment snapshot: only the container engine's own settings are taken from it. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Engine sockets a plugin must never reach (root's Docker and Podman APIs). */
const ENGINE_SOCKETS = ['/run/docker.sock', '/run/podman/podman.sock', '/run/containerd/containerd.sock'];

/** Everything of keyway's a plugin must not see, wherever its binds would show it. */
export function hiddenFromPlugins(w: Pick<PluginWiring, 'config' | 'stateDir' | 'runtimeDir' | 'configPath'>): string[] {
  const db = join(w.stateDir, DB_FILE);
  return [
    w.stateDir,
    db,
    `${db}-wal`,
    `${db}-shm`,
    w.config.local.key_file ?? defaultKeyPath(w.stateDir),
    ...(w.configPath !== undefined ? [w.configPath] : []),
    ...(w.runtimeDir !== undefined ? [w.runtimeDir] : []),
    ...(w.config.api.socket !== undefined ? [w.config.api.socket] : []),
    w.config.docker.socket,
    w.config.csi.socket,
    ...ENGINE_SOCKETS,
  ];
}

export function pluginHostDeps(w: PluginWiring): HostDeps {
  return {
    logger: w.logger,
    maxPayloadBytes: w.config.limits.max_secret_bytes,
    ...(w.config.plugin_dir !== undefined ? { pluginDir: w.config.plugin_dir } : {}),
    hide: hiddenFromPlugins(w),
    isRoot: w.isRoot,
    ociEngineEnv: engineEnv(w.env),
    onLaunch: (info) =>
      w.audit?.record({
        action: 'plugin.launch',
        frontend: w.frontend ?? 'plugin-host',
        subject: info.plugin,
        provider: info.plugin,
        outcome: 'ok',
        detail: info.sha256 !== undefined ? `sha256=${info.sha256} sandbox=${info.sandbox} pid=${info.pid ?? '?'}` : `image=${info.image ?? '?'} sandbox=${info.sandbox}`,
      }),
  };
}

export function pluginCatalog(config: Config, db: Db): PluginCatalog {
  return new PluginCatalog(config.plugins, new PluginsRepo(db));
}

/**
 * Refuses, when config is loaded, a configured plugin whose ro_binds would show keyway's state, the
 * whole host or its kernel interfaces: the same check register and every spawn make, so a bad
 * `[plugins.NAME]` table fails at start instead of at the first lookup. A bind that does not exist
 * yet is left to the spawn check (it may be created later and is checked again there).
 */
export function checkConfiguredBinds(config: Pick<Config, 'plugins'>, hide: readonly string[]): void {
  for (const [name, c] of Object.entries(config.plugins)) {
    for (const bind of c.ro_binds ?? []) {
      try {
        resolveUserBinds([bind], hide);
      } catch (e) {
        if (e instanceof KeywayError && (e.code === 'invalid_argument' || e.code === 'permission_denied')) {
          throw new KeywayError(e.code, `plugins.${name}: ${e.message}`);
        }
      }
    }
  }
}

export function pluginSource(w: PluginWiring, db: Db): PluginProviderSource {
  checkConfiguredBinds(w.config, hiddenFromPlugins(w));
  return pluginProviders(pluginCatalog(w.config, db), pluginHostDeps(w));
}
