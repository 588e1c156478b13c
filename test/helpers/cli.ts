// Runs the built CLI as a subprocess against a private instance (own state, runtime and config).
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { unmountUnder } from './mounts.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO, 'dist', 'cli.js');

/** Newest modification time (ms) of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** What dist/ is built from besides src/: the build script and the package (its dependencies, its Node target). */
const BUILD_INPUTS = [join('scripts', 'postbuild.mjs'), 'package.json'];

/** True when `repo`'s dist/cli.js is missing or older than some file under its src/ or a build input. */
export function distIsStale(repo = REPO): boolean {
  const cli = join(repo, 'dist', 'cli.js');
  if (!existsSync(cli)) return true;
  const inputs = BUILD_INPUTS.map((f) => join(repo, f)).filter((f) => existsSync(f));
  return Math.max(newestMtime(join(repo, 'src')), ...inputs.map((f) => statSync(f).mtimeMs)) > statSync(cli).mtimeMs;
}

/**
 * Builds dist/ when a test runs before `npm run build` or after src/ changed, so no test runs stale
 * code. Test files run in parallel processes: one builds while the others wait on a lock directory.
 */
export function ensureBuilt(): void {
  if (!distIsStale()) return;
  const lock = join(REPO, '.build-lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test process is building; wait for it (or for a lock left by a killed run to age out).
      if (Date.now() > deadline) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      if (!existsSync(lock)) return ensureBuilt();
    }
  }
  try {
    if (!distIsStale()) return;
    const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Instance {
  readonly dir: string;
  readonly stateDir: string;
  readonly runtimeDir: string;
  readonly configPath: string;
  readonly env: NodeJS.ProcessEnv;
  run(args: readonly string[], opts?: { input?: Buffer | string; env?: NodeJS.ProcessEnv }): SpawnSyncReturns<Buffer>;
  runAsync(args: readonly string[], opts?: { input?: Buffer | string }): Promise<{ status: number | null; stdout: Buffer; stderr: string }>;
  writeConfig(toml: string): void;
  cleanup(): void;
}

export function makeInstance(prefix = 'keyway-test-'): Instance {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const stateDir = join(dir, 'state');
  const runtimeDir = join(dir, 'run');
  const configPath = join(dir, 'keyway.toml');
  // Root defaults enable the Docker and CSI frontends on fixed host sockets; tests opt in to them
  // with their own sockets, so parallel test instances never collide.
  const isolate = (toml: string): string =>
    toml + (toml.includes('[docker]') ? '' : '\n[docker]\nenabled = false\n') + (toml.includes('[csi]') ? '' : '\n[csi]\nenabled = false\n');
  writeFileSync(configPath, isolate(''));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    KEYWAY_STATE_DIR: stateDir,
    KEYWAY_RUNTIME_DIR: runtimeDir,
    KEYWAY_CONFIG: configPath,
  };
  return {
    dir,
    stateDir,
    runtimeDir,
    configPath,
    env,
    run(args, opts = {}) {
      return spawnSync(process.execPath, [CLI, ...args], { env: { ...env, ...opts.env }, input: opts.input ?? '', maxBuffer: 64 * 1024 * 1024 });
    },
    runAsync(args, opts = {}) {
      return new Promise((resolvePromise) => {
        const child = spawn(process.execPath, [CLI, ...args], { env });
        const out: Buffer[] = [];
        let err = '';
        child.stdout.on('data', (d: Buffer) => out.push(d));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (status) => resolvePromise({ status, stdout: Buffer.concat(out), stderr: err }));
        child.stdin.end(opts.input ?? '');
      });
    },
    writeConfig(toml) {
      writeFileSync(configPath, isolate(toml));
    },
    cleanup() {
      // A delivery's tmpfs mount root may still be mounted under the runtime dir.
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private instance for one test, unmounted and removed when the test ends. */
export function testInstance(t: { after: (fn: () => void) => void }, prefix?: string): Instance {
  const i = makeInstance(prefix);
  t.after(() => i.cleanup());
  return i;
}

/** Files under `dirs` (recursively, not following symlinks) whose bytes contain `needle`. */
export function scanFor(dirs: readonly string[], needle: Buffer): string[] {
  const hits: string[] = [];
  const walk = (p: string): void => {
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      let entries: string[] = [];
      try {
        entries = readdirSync(p);
      } catch {
        return;
      }
      for (const e of entries) walk(join(p, e));
    } else if (st.isFile()) {
      try {
        if (readFileSync(p).includes(needle)) hits.push(p);
      } catch {
        // unreadable (sockets, races): nothing to scan
      }
    }
  };
  for (const d of dirs) walk(d);
  return hits;
}

/** How many mount-set records the instance's store holds (each live delivery has one). */
export function mountSetRecords(i: Instance): number {
  const db = openDb(i.stateDir);
  try {
    return new MountSetsRepo(db).list().length;
  } finally {
    db.close();
  }
}
