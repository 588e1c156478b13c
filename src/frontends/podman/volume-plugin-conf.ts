// `keyway podman setup`: registers keyway's Docker-volume API with Podman, which finds volume
// plugins only through containers.conf `[engine.volume_plugins] NAME = "/path/to/socket"` (no
// discovery). keyway writes a drop-in of its own under containers.conf.d, so the user's (or the
// system's) containers.conf is never rewritten and a second run finds nothing to change.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, constants as fsc } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';

export const DROP_IN_NAME = '50-keyway.conf';
const PLUGIN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface VolumePluginConf {
  /** The drop-in file. */
  readonly path: string;
  readonly content: string;
  /** What the file holds now, if it exists. */
  readonly current: string | undefined;
  readonly changed: boolean;
  /** Why Podman may not read the drop-in (CONTAINERS_CONF set), for the user to see. */
  readonly warning?: string;
}

/** Podman's drop-in directory: the system one for root, else the user's under XDG_CONFIG_HOME. */
export function dropInDir(isRoot: boolean, env: Readonly<Record<string, string | undefined>>): string {
  if (isRoot) return '/etc/containers/containers.conf.d';
  const home = env.HOME;
  const configHome = env.XDG_CONFIG_HOME || (home ? join(home, '.config') : undefined);
  if (configHome === undefined) throw new KeywayError('failed_precondition', 'neither XDG_CONFIG_HOME nor HOME is set: cannot find your containers.conf.d');
  return join(configHome, 'containers', 'containers.conf.d');
}

function tomlString(s: string): string {
  // JSON's escapes are a subset of TOML basic strings'; control characters are refused earlier.
  return JSON.stringify(s);
}

export function planVolumePluginConf(opts: { isRoot: boolean; env: Readonly<Record<string, string | undefined>>; name: string; socket: string }): VolumePluginConf {
  if (!PLUGIN_NAME_RE.test(opts.name)) throw new KeywayError('invalid_argument', `--name: expected letters, digits, ".", "_" or "-" (1-64), got ${JSON.stringify(opts.name.slice(0, 64))}`);
  if (!opts.socket.startsWith('/') || /[\x00-\x1f\x7f]/.test(opts.socket)) throw new KeywayError('invalid_argument', `the Docker plugin socket must be an absolute path, got ${JSON.stringify(opts.socket.slice(0, 200))}`);
  const path = join(dropInDir(opts.isRoot, opts.env), DROP_IN_NAME);
  const content = [
    '# Written by `keyway podman setup`: keyway serves Podman volumes (podman volume create --driver ' + opts.name + ').',
    '[engine.volume_plugins]',
    `${opts.name} = ${tomlString(opts.socket)}`,
    '',
  ].join('\n');
  let current: string | undefined;
  try {
    const st = lstatSync(path);
    if (!st.isFile()) throw new KeywayError('failed_precondition', `${path} exists and is not a regular file; refusing to replace it`);
    current = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof KeywayError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw toKeywayError(e, `cannot read ${path}`);
  }
  const conf = opts.env.CONTAINERS_CONF;
  return {
    path,
    content,
    current,
    changed: current !== content,
    ...(conf ? { warning: `CONTAINERS_CONF is set (${conf}): Podman then reads only that file; add the [engine.volume_plugins] lines there` } : {}),
  };
}

/** Writes the drop-in atomically (temp file, fsync, rename); mode 0644 as Podman's configs are. */
export function writeVolumePluginConf(plan: VolumePluginConf): void {
  if (!plan.changed) return;
  const dir = dirname(plan.path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw toKeywayError(e, `cannot create ${dir}`);
  }
  const tmp = join(dir, `.${DROP_IN_NAME}.${process.pid}.tmp`);
  try {
    const fd = openSync(tmp, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY | fsc.O_NOFOLLOW, 0o644);
    try {
      writeSync(fd, plan.content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, plan.path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw toKeywayError(e, `cannot write ${plan.path}`);
  }
}
