// A real limited user for rootless tests and benchmarks: created with useradd -m (subuid/subgid
// ranges included), its runtime dir /run/user/<uid> (0700, as logind would make it), a rootless
// Podman with the containers.conf of ./podman.ts (runc, cgroupfs, file events, no network, vfs) and
// the busybox image of ./images.ts imported into the user's own storage. Commands run as the user through setpriv
// with a clean environment. Needs root; cleanup kills the user's processes by pid and removes it.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CLI, ensureBuilt, REPO } from './cli.js';
import { podmanImportArgs } from './images.js';
import { unmountUnder } from './mounts.js';
import { containersConf, IMAGE, podmanSkipReason, storageConf } from './podman.js';
import { ensureTools, rootSkipReason } from './tools.js';

export { IMAGE };

export interface RootlessUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** $XDG_RUNTIME_DIR (/run/user/<uid>). */
  readonly xdgRuntimeDir: string;
  /** keyway's defaults for this user. */
  readonly stateDir: string;
  readonly runtimeDir: string;
  /** dist/cli.js at a path the user can read. */
  readonly cli: string;
  /** The repo root as the user sees it (a readable copy when the checkout is not). */
  readonly repo: string;
  readonly env: NodeJS.ProcessEnv;
  run(file: string, args: readonly string[], opts?: { input?: Buffer | string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<Buffer>;
  spawn(file: string, args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; stdio?: 'ignore' | 'pipe' }): ChildProcess;
  keyway(args: readonly string[], opts?: { input?: Buffer | string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<Buffer>;
  spawnKeyway(args: readonly string[], opts?: { env?: NodeJS.ProcessEnv; stdio?: 'ignore' | 'pipe' }): ChildProcess;
  /** Runs podman as the user and fails with its stderr unless it exits 0; returns stdout. */
  podman(args: readonly string[]): Buffer;
  /** The user's live processes (pids), from /proc. */
  pids(): number[];
  cleanup(): void;
}

/** Why rootless tests cannot run here (they never skip as root: missing tools are installed). */
export function rootlessSkipReason(): string | undefined {
  return (
    rootSkipReason('rootless tests create a real user and need root to do so') ||
    podmanSkipReason() ||
    ensureTools([['useradd', 'passwd'], ['newuidmap', 'uidmap'], ['setpriv', 'util-linux'], ['unshare', 'util-linux'], ['nsenter', 'util-linux'], ['bwrap', 'bubblewrap']]) ||
    undefined
  );
}

function must(r: SpawnSyncReturns<Buffer>, what: string): Buffer {
  if (r.status !== 0) throw new Error(`${what} exited ${String(r.status)}: ${r.stderr.toString().slice(0, 2000)}`);
  return r.stdout;
}

function readableBy(uid: number, gid: number, path: string): boolean {
  return spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--', 'test', '-r', path], { stdio: 'ignore' }).status === 0;
}

let readableCopy: string | undefined;

/** The checkout when the user can read it, else a world-readable copy of what the CLI needs. */
function repoFor(uid: number, gid: number): string {
  if (readableBy(uid, gid, CLI) && readableBy(uid, gid, join(REPO, 'node_modules', 'commander', 'package.json'))) return REPO;
  if (readableCopy !== undefined) return readableCopy;
  const dir = mkdtempSync(join(tmpdir(), 'keyway-rootless-repo-'));
  chmodSync(dir, 0o755);
  // .node/: the project-local Node (scripts/install-node.sh) the tests may be running on.
  for (const part of ['dist', 'node_modules', 'bin', 'package.json', join('test', 'delivery', 'fixtures'), '.node']) {
    if (part !== '.node' || existsSync(join(REPO, part))) cpSync(join(REPO, part), join(dir, part), { recursive: true });
  }
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  readableCopy = dir;
  return dir;
}

function subIdsPresent(file: string, name: string): boolean {
  try {
    return readFileSync(file, 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
  } catch {
    return false;
  }
}

/** Adds a subordinate id range after every range already allocated (useradd did not). */
function addSubIds(name: string): void {
  let top = 100000;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    try {
      for (const l of readFileSync(file, 'utf8').split('\n')) {
        const [, start, count] = l.split(':');
        if (start && count) top = Math.max(top, Number(start) + Number(count));
      }
    } catch {
      // no file yet
    }
  }
  must(spawnSync('usermod', ['--add-subuids', `${top}-${top + 65535}`, '--add-subgids', `${top}-${top + 65535}`, name]), 'usermod --add-subuids');
}

function writeOwned(path: string, text: string, uid: number, gid: number): void {
  writeFileSync(path, text);
  chownSync(path, uid, gid);
}

export function makeRootlessUser(): RootlessUser {
  ensureBuilt();
  const name = `kw${randomBytes(4).toString('hex')}`;
  must(spawnSync('useradd', ['-m', '-s', '/bin/sh', name]), 'useradd');
  try {
    return setUp(name);
  } catch (e) {
    // Half-made: remove the user and its runtime dir before failing.
    const uid = spawnSync('id', ['-u', name]).stdout.toString().trim();
    if (/^[0-9]+$/.test(uid)) {
      spawnSync('umount', ['-l', `/run/user/${uid}`], { stdio: 'ignore' });
      rmSync(`/run/user/${uid}`, { recursive: true, force: true });
    }
    spawnSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
    throw e;
  }
}

function setUp(name: string): RootlessUser {
  const ids = must(spawnSync('id', ['-u', name]), 'id').toString().trim();
  const uid = Number(ids);
  const gid = Number(must(spawnSync('id', ['-g', name]), 'id').toString().trim());
  if (!subIdsPresent('/etc/subuid', name) || !subIdsPresent('/etc/subgid', name)) addSubIds(name);
  const home = join('/home', name);
  const xdgRuntimeDir = `/run/user/${uid}`;
  // /run/user is 0755 root on a logind host; mkdir -p would make it 0700 and lock the user out.
  mkdirSync('/run/user', { recursive: true, mode: 0o755 });
  chmodSync('/run/user', 0o755);
  mkdirSync(xdgRuntimeDir, { recursive: true, mode: 0o700 });
  // What logind does at login: a small tmpfs of the user's own (swappable: "weak" for secrets).
  must(spawnSync('mount', ['-t', 'tmpfs', '-o', `mode=0700,uid=${uid},gid=${gid},size=64m,nosuid,nodev`, `keyway-test-user-${uid}`, xdgRuntimeDir]), 'mount the runtime dir');
  const repo = repoFor(uid, gid);
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: home,
    USER: name,
    LOGNAME: name,
    XDG_RUNTIME_DIR: xdgRuntimeDir,
    LANG: 'C.UTF-8',
  };
  const asUser = (file: string, args: readonly string[]): string[] => ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--', file, ...args];
  const run: RootlessUser['run'] = (file, args, opts = {}) =>
    spawnSync('setpriv', asUser(file, args), { env: { ...env, ...opts.env }, cwd: home, input: opts.input ?? '', maxBuffer: 64 * 1024 * 1024, timeout: 180_000 });
  const spawnAs: RootlessUser['spawn'] = (file, args, opts = {}) => spawn('setpriv', asUser(file, args), { env: { ...env, ...opts.env }, cwd: home, stdio: opts.stdio ?? 'pipe' });
  const cli = join(repo, 'dist', 'cli.js');
  // The same Node as the tests, from the user's copy when it came from the checkout's .node/.
  const node = process.execPath.startsWith(REPO + '/') ? join(repo, relative(REPO, process.execPath)) : process.execPath;

  // Rootless Podman as in a minimal VM: runc, cgroupfs, file events, no network; vfs storage.
  const conf = join(home, '.config', 'containers');
  mkdirSync(conf, { recursive: true });
  writeOwned(join(conf, 'containers.conf'), containersConf(), uid, gid);
  writeOwned(join(conf, 'storage.conf'), storageConf(), uid, gid);
  spawnSync('chown', ['-R', `${uid}:${gid}`, join(home, '.config')]);

  const podman: RootlessUser['podman'] = (args) => must(run('podman', args), `podman ${args.join(' ')}`);

  // The busybox image, from the shared tarball (world-readable).
  podman(podmanImportArgs());

  const pids = (): number[] => {
    const out: number[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(e)) continue;
      try {
        const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${e}/status`, 'utf8'));
        if (m && Number(m[1]) === uid) out.push(Number(e));
      } catch {
        // exited meanwhile
      }
    }
    return out;
  };

  return {
    name,
    uid,
    gid,
    home,
    xdgRuntimeDir,
    stateDir: join(home, '.local', 'share', 'keyway'),
    runtimeDir: join(xdgRuntimeDir, 'keyway'),
    cli,
    repo,
    env,
    run,
    spawn: spawnAs,
    keyway: (args, opts) => run(node, [cli, ...args], opts),
    spawnKeyway: (args, opts) => spawnAs(node, [cli, ...args], opts),
    podman,
    pids,
    cleanup() {
      run('podman', ['rm', '--all', '--force', '--time', '0']);
      // Every process of this user (pause process, conmon, keyway), each by its pid.
      for (let i = 0; i < 50; i++) {
        const left = pids();
        if (left.length === 0) break;
        for (const pid of left) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        spawnSync('sleep', ['0.1']);
      }
      for (const base of [xdgRuntimeDir, home]) unmountUnder(base);
      spawnSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
      rmSync(home, { recursive: true, force: true });
      rmSync(xdgRuntimeDir, { recursive: true, force: true });
    },
  };
}
