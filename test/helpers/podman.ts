// The one private Podman setup for tests and benchmarks: containers.conf and storage.conf (through
// CONTAINERS_CONF / CONTAINERS_STORAGE_CONF) with graph root, run root, tmp dir, events log and
// volumes under one temp dir; runc + cgroupfs + file events + no network + vfs; and the busybox
// image from ./images.ts, so nothing touches the host's Podman state or needs a registry.
// Rootless users (./rootless.ts) get the same containers.conf, minus the paths.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageSkipReason, importPodmanImage, PODMAN_TEST_IMAGE } from './images.js';
import { unmountUnder } from './mounts.js';
import { ensureTools, rootSkipReason } from './tools.js';

export const IMAGE = PODMAN_TEST_IMAGE;

export interface PodmanOptions {
  /** [engine.volume_plugins]: plugin name → socket path. */
  readonly volumePlugins?: Readonly<Record<string, string>>;
}

export interface PodmanEnv {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  run(args: readonly string[], opts?: { input?: Buffer | string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<Buffer>;
  /** Runs podman and fails with its stderr unless it exits 0; returns stdout. */
  ok(args: readonly string[], opts?: { input?: Buffer | string }): Buffer;
  /** Whether this podman's `secret create` knows `flag`. */
  supports(flag: string): boolean;
  cleanup(): void;
}

/** Why Podman tests cannot run here, or undefined when they can (installs missing tools as root). */
export function podmanSkipReason(): string | undefined {
  return rootSkipReason('real Podman tests need root (rootful podman with runc and cgroupfs)') || ensureTools([['podman', 'podman'], ['runc', 'runc']]) || imageSkipReason() || undefined;
}

/** containers.conf: with `dir`, every path Podman writes (tmp, events, volumes) lies under it. */
export function containersConf(dir?: string, volumePlugins: Readonly<Record<string, string>> = {}): string {
  const paths = dir === undefined ? [] : [`tmp_dir = "${join(dir, 'tmp')}"`, `events_logfile_path = "${join(dir, 'events.log')}"`, `volume_path = "${join(dir, 'volumes')}"`];
  const plugins = Object.entries(volumePlugins).map(([name, socket]) => `${name} = "${socket}"`);
  return [
    '[containers]',
    'netns = "none"',
    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
    '[engine]',
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    ...paths,
    ...(plugins.length > 0 ? ['[engine.volume_plugins]', ...plugins] : []),
    '',
  ].join('\n');
}

/** storage.conf: vfs, with graph root and run root under `dir` when given. */
export function storageConf(dir?: string): string {
  const paths = dir === undefined ? [] : [`runroot = "${join(dir, 'runroot')}"`, `graphroot = "${join(dir, 'graph')}"`];
  return ['[storage]', 'driver = "vfs"', ...paths, ''].join('\n');
}

/** Writes both files into `dir` and returns the environment that points Podman at them. */
export function writePodmanConf(dir: string, volumePlugins?: Readonly<Record<string, string>>): { CONTAINERS_CONF: string; CONTAINERS_STORAGE_CONF: string } {
  const conf = join(dir, 'containers.conf');
  const storage = join(dir, 'storage.conf');
  writeFileSync(conf, containersConf(dir, volumePlugins));
  writeFileSync(storage, storageConf(dir));
  return { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
}

export function makePodman(prefix = 'keyway-podman-', opts: PodmanOptions = {}): PodmanEnv {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, ...writePodmanConf(dir, opts.volumePlugins) };
  // Podman wants a FIFO on stdin for `-`; Node's stdio pipes are socketpairs, so cat relays input.
  const run: PodmanEnv['run'] = (args, o = {}) =>
    o.input === undefined
      ? spawnSync('podman', [...args], { env: { ...env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 120_000 })
      : spawnSync('/bin/sh', ['-c', 'cat | "$0" "$@"', 'podman', ...args], { env: { ...env, ...o.env }, input: o.input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  const ok: PodmanEnv['ok'] = (args, o = {}) => {
    const r = run(args, o);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
    return r.stdout;
  };
  importPodmanImage(env);
  let help: string | undefined;
  return {
    dir,
    env,
    run,
    ok,
    supports(flag) {
      help ??= run(['secret', 'create', '--help']).stdout.toString();
      return help.includes(flag);
    },
    cleanup() {
      run(['rm', '--all', '--force', '--time', '0']);
      run(['volume', 'rm', '--all', '--force']);
      // vfs layers are plain directories; anything still mounted under dir (shm of a crashed
      // container) is unmounted lazily before removal.
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
