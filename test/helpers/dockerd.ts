// A private dockerd for tests: its own data-root, exec-root, pidfile and socket under a temp dir,
// vfs storage, no iptables, no bridge, so it neither needs nor touches the host's Docker. The CLI
// talks to it through DOCKER_HOST. Teardown kills the whole process group (SIGTERM, then SIGKILL),
// unmounts anything left under its dirs (deepest first) and removes them, whatever happened.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unmountUnder } from './mounts.js';
import { ensureTools, rootSkipReason } from './tools.js';

export interface Dockerd {
  readonly dir: string;
  readonly socket: string;
  /** Env for the docker CLI: DOCKER_HOST and a private DOCKER_CONFIG. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs the docker CLI synchronously (argv only, no shell). */
  docker(args: readonly string[], opts?: { input?: Buffer | string; timeoutMs?: number }): DockerResult;
  /** Runs the docker CLI without blocking the event loop (so an in-process plugin can answer). */
  dockerAsync(args: readonly string[], opts?: { timeoutMs?: number }): Promise<DockerResult>;
  /**
   * `docker swarm init` on a free loopback port instead of the default 2377, so a Swarm manager
   * already running on the machine (or another test's) does not make it fail.
   */
  swarmInit(): Promise<DockerResult>;
  /** Removes every container, running or not (before the volume plugin they use goes away). */
  removeContainers(): void;
  /** Stops and starts the daemon again with the same dirs. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Everything dockerd printed (for failure messages). */
  log(): string;
}

export interface DockerResult {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** False when a private dockerd can run (installing docker.io if needed), else the skip reason. */
export function dockerSkipReason(): string | false {
  return rootSkipReason('needs root to run a private dockerd') || ensureTools([['dockerd', 'docker.io'], ['docker', 'docker.io'], ['containerd', 'docker.io'], ['runc', 'runc']]);
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it; the probe is closed). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port from the probe server'))));
    });
  });
}

/**
 * Listens on 127.0.0.1:`port` so nothing else can, or resolves undefined when the port is already
 * taken (then something else holds it, which serves the same purpose). Close it when done.
 */
export function holdPort(port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const srv = createServer((s) => s.destroy());
    srv.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e)));
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function runDocker(env: NodeJS.ProcessEnv, args: readonly string[], opts: { input?: Buffer | string; timeoutMs?: number } = {}): DockerResult {
  const r = spawnSync('docker', [...args], { env, input: opts.input ?? '', timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? Buffer.alloc(0), stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function runDockerAsync(env: NodeJS.ProcessEnv, args: readonly string[], timeoutMs = 120_000): Promise<DockerResult> {
  return new Promise((resolve) => {
    const child = spawn('docker', [...args], { env, stdio: ['ignore', 'pipe', 'pipe'], signal: AbortSignal.timeout(timeoutMs), killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code) => resolve({ status: code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
  });
}

async function killGroup(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([exited, sleep(5_000)]);
  }
}

/** Starts a private dockerd and waits until it answers. Call `stop()` in t.after / after(). */
export async function startDockerd(prefix = 'keyway-dockerd-'): Promise<Dockerd> {
  // Short base path: the containerd socket path inside exec-root must stay under 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'x');
  const socket = join(dir, 'docker.sock');
  const config = join(dir, 'cli');
  for (const d of [dataRoot, execRoot, config]) mkdirSync(d, { recursive: true });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: dir, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config };
  const logPath = join(dir, 'dockerd.log');
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const fd = openSync(logPath, 'a');
    try {
      child = spawn(
        'dockerd',
        [
          '--storage-driver', 'vfs', '--iptables=false', '--ip-masq=false', '--ip6tables=false', '--bridge=none',
          '--data-root', dataRoot, '--exec-root', execRoot, '--pidfile', join(dir, 'dockerd.pid'),
          '-H', `unix://${socket}`, '--userland-proxy=false', '--log-level', 'warn',
        ],
        { detached: true, stdio: ['ignore', fd, fd], env: { PATH: env.PATH } },
      );
    } finally {
      closeSync(fd);
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}:\n${readLog()}`);
      if (existsSync(socket) && (await runDockerAsync(env, ['version', '--format', '{{.Server.Version}}'], 10_000)).status === 0) return;
      if (Date.now() > deadline) {
        await stopNow();
        throw new Error(`dockerd did not answer within 60 s:\n${readLog()}`);
      }
      await sleep(200);
    }
  };

  const readLog = (): string => {
    try {
      return readFileSync(logPath, 'utf8').slice(-8000);
    } catch {
      return '';
    }
  };

  const stopNow = async (): Promise<void> => {
    if (child) await killGroup(child, 20_000);
    child = undefined;
    // containerd-shim processes run in their own groups; kill whatever still has our exec-root open.
    spawnSync('sh', ['-c', `for p in $(pgrep -f -- ${JSON.stringify(execRoot)}); do kill -9 $p; done`], { stdio: 'ignore' });
    unmountUnder(dir);
  };

  await start();
  let stopped = false;
  return {
    dir,
    socket,
    env,
    docker: (args, opts) => runDocker(env, args, opts),
    dockerAsync: (args, opts) => runDockerAsync(env, args, opts?.timeoutMs),
    log: readLog,
    removeContainers() {
      const ids = String(runDocker(env, ['ps', '-aq']).stdout).split('\n').filter(Boolean);
      if (ids.length > 0) runDocker(env, ['rm', '-f', ...ids]);
    },
    async swarmInit() {
      // The probed port can be taken again before dockerd binds it; then try another one.
      for (let attempt = 1; ; attempt++) {
        const addr = `127.0.0.1:${await freePort()}`;
        const r = await runDockerAsync(env, ['swarm', 'init', '--listen-addr', addr, '--advertise-addr', addr]);
        if (r.status === 0 || attempt === 3 || !r.stderr.includes('address already in use')) return r;
      }
    },
    async restart() {
      await stopNow();
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopNow();
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
