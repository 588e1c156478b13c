// Shared bench plumbing: a private keyway instance, `keyway serve` started and stopped, unix
// socket HTTP calls, RSS readings.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const CLI = join(REPO, 'dist', 'cli.js');

export interface BenchInstance {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly adminSocket: string;
  cli(args: readonly string[], input?: Buffer | string): Buffer;
  serve(): Promise<ChildProcess>;
  cleanup(): void;
}

export function instance(config = '[docker]\nenabled = false\n[csi]\nenabled = false\n'): BenchInstance {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-'));
  writeFileSync(join(dir, 'keyway.toml'), config);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, KEYWAY_STATE_DIR: join(dir, 'state'), KEYWAY_RUNTIME_DIR: join(dir, 'run'), KEYWAY_CONFIG: join(dir, 'keyway.toml') };
  const adminSocket = join(dir, 'run', 'keyway.sock');
  const children: ChildProcess[] = [];
  return {
    dir,
    env,
    adminSocket,
    cli(args, input = '') {
      const r = spawnSync(process.execPath, [CLI, ...args], { env, input, maxBuffer: 1 << 26 });
      if (r.status !== 0) throw new Error(`keyway ${args.join(' ')}: ${r.stderr.toString()}`);
      return r.stdout;
    },
    async serve() {
      const child = spawn(process.execPath, [CLI, 'serve'], { env, stdio: 'ignore' });
      children.push(child);
      for (let i = 0; i < 400 && !existsSync(adminSocket); i++) await new Promise((r) => setTimeout(r, 25));
      if (!existsSync(adminSocket)) throw new Error('keyway serve did not start');
      return child;
    },
    cleanup() {
      for (const c of children) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const agents = new Map<string, Agent>();

/** POST over a unix socket with a keep-alive agent (what a long-lived client would do). */
export function post(socketPath: string, path: string, body: string): Promise<Buffer> {
  let agent = agents.get(socketPath);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.set(socketPath, agent);
  }
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath, path, method: 'POST', agent, headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => (res.statusCode === 200 ? resolvePromise(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function closeAgents(): void {
  for (const a of agents.values()) a.destroy();
  agents.clear();
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
