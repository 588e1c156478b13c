// A private Podman for tests and benchmarks: its own containers.conf and storage.conf (through
// CONTAINERS_CONF / CONTAINERS_STORAGE_CONF), graph root, run root and tmp dir under one temp dir,
// runc + cgroupfs + file events + no network, and a busybox image imported from a tarball of the
// host's static busybox, so nothing touches the host's Podman state or needs a registry.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..');
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const APPLETS = ['sh', 'cat', 'env', 'ls', 'stat', 'wc', 'sha256sum', 'test', 'true', 'false', 'echo'];
export const IMAGE = 'localhost/keyway-busybox:latest';

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

function busybox(): string | undefined {
  return BUSYBOX_CANDIDATES.find((p) => existsSync(p));
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

let setupTried = false;

/** Why Podman tests cannot run here, or undefined when they can (installs missing tools as root). */
export function podmanSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'SKIPPED: real Podman tests need root (rootful podman with runc and cgroupfs)';
  const missing = (): string[] => [...(['podman', 'runc'].filter((c) => !have(c))), ...(busybox() ? [] : ['busybox-static'])];
  if (missing().length > 0 && !setupTried) {
    setupTried = true;
    spawnSync('bash', [join(REPO, 'scripts', 'setup.sh')], { stdio: 'inherit' });
  }
  const still = missing();
  if (still.length > 0) return `SKIPPED: ${still.join(', ')} not installed and scripts/setup.sh could not install them`;
  return undefined;
}

export function makePodman(prefix = 'keyway-podman-'): PodmanEnv {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const conf = join(dir, 'containers.conf');
  const storage = join(dir, 'storage.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      'netns = "none"',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${join(dir, 'tmp')}"`,
      '',
    ].join('\n'),
  );
  writeFileSync(storage, ['[storage]', 'driver = "vfs"', `runroot = "${join(dir, 'runroot')}"`, `graphroot = "${join(dir, 'graph')}"`, ''].join('\n'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: dir,
    CONTAINERS_CONF: conf,
    CONTAINERS_STORAGE_CONF: storage,
  };
  // Podman wants a FIFO on stdin for `-`; Node's stdio pipes are socketpairs, so cat relays input.
  const run: PodmanEnv['run'] = (args, opts = {}) =>
    opts.input === undefined
      ? spawnSync('podman', [...args], { env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, timeout: 120_000 })
      : spawnSync('/bin/sh', ['-c', 'cat | "$0" "$@"', 'podman', ...args], { env: { ...env, ...opts.env }, input: opts.input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  const ok: PodmanEnv['ok'] = (args, opts = {}) => {
    const r = run(args, opts);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
    return r.stdout;
  };
  // The image: /bin/busybox plus applet symlinks, imported from a tarball.
  const root = join(dir, 'image-root');
  mkdirSync(join(root, 'bin'), { recursive: true });
  const bb = busybox();
  if (!bb) throw new Error('busybox-static is not installed');
  copyFileSync(bb, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  const tar = join(dir, 'image.tar');
  const t = spawnSync('tar', ['-C', root, '-cf', tar, '.']);
  if (t.status !== 0) throw new Error(`tar failed: ${t.stderr.toString()}`);
  ok(['import', '--quiet', tar, IMAGE]);
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
      // vfs layers are plain directories; anything still mounted under dir (shm of a crashed
      // container) is unmounted lazily before removal.
      const mounts = readFileSync('/proc/self/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(dir + '/'))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) spawnSync('umount', ['-l', m]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
