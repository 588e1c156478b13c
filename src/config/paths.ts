// Default locations (docs/config.md, `state_dir` and `runtime_dir`): root uses system paths, others XDG dirs.
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface Locations {
  readonly configPath: string;
  readonly stateDir: string;
  readonly runtimeDir: string;
}

export interface LocationInputs {
  readonly uid: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags: { readonly config?: string; readonly stateDir?: string; readonly runtimeDir?: string };
}

export function defaultLocations(uid: number, env: Readonly<Record<string, string | undefined>>): Locations {
  if (uid === 0) return { configPath: '/etc/keyway/keyway.toml', stateDir: '/var/lib/keyway', runtimeDir: '/run/keyway' };
  const home = env.HOME ?? homedir();
  const configHome = env.XDG_CONFIG_HOME || join(home, '.config');
  const dataHome = env.XDG_DATA_HOME || join(home, '.local', 'share');
  const runtimeBase = env.XDG_RUNTIME_DIR || join('/tmp', `keyway-${uid}`);
  return {
    configPath: join(configHome, 'keyway', 'keyway.toml'),
    stateDir: join(dataHome, 'keyway'),
    runtimeDir: join(runtimeBase, 'keyway'),
  };
}

/** Flags beat environment variables, which beat the config file's own keys, which beat defaults. */
export function resolveLocations(inputs: LocationInputs): Locations & { configExplicit: boolean } {
  const d = defaultLocations(inputs.uid, inputs.env);
  const configPath = inputs.flags.config ?? inputs.env.KEYWAY_CONFIG ?? d.configPath;
  return {
    configPath,
    configExplicit: inputs.flags.config !== undefined || inputs.env.KEYWAY_CONFIG !== undefined,
    stateDir: inputs.flags.stateDir ?? inputs.env.KEYWAY_STATE_DIR ?? d.stateDir,
    runtimeDir: inputs.flags.runtimeDir ?? inputs.env.KEYWAY_RUNTIME_DIR ?? d.runtimeDir,
  };
}
