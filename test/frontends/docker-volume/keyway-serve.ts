// Runs the real `keyway serve` (built CLI) as the Docker/Podman plugin of a test: a private
// instance (own state, runtime dir and config) listening on a test-specific plugin socket under
// /run/docker/plugins, so parallel tests and the host's own keyway never collide.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { CLI, makeInstance, type Instance } from '../../helpers/cli.js';
import { unmountRoot } from '../../../src/delivery/mount-root.js';

export const PLUGIN_DIR = '/run/docker/plugins';

export interface KeywayPlugin {
  readonly name: string;
  readonly socket: string;
  readonly instance: Instance;
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** Everything the daemon logged. */
  logs(): string;
  /** Process id of the running daemon, if any. */
  pid(): number | undefined;
  cleanup(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function keywayPlugin(opts: { logLevel?: string; config?: string } = {}): KeywayPlugin {
  const name = `keyway-test-${randomBytes(4).toString('hex')}`;
  const socket = `${PLUGIN_DIR}/${name}.sock`;
  const instance = makeInstance('kw-dv-');
  instance.writeConfig(`[docker]\nenabled = true\nsocket = "${socket}"\n[csi]\nenabled = false\n${opts.config ?? ''}`);
  let child: ChildProcess | undefined;
  let log = '';
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) {
      c.kill('SIGKILL');
      await exited;
    }
  };
  return {
    name,
    socket,
    instance,
    logs: () => log,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    async start() {
      const c = spawn(process.execPath, [CLI, 'serve'], { env: { ...instance.env, KEYWAY_LOG_LEVEL: opts.logLevel ?? 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      c.stderr?.on('data', (d: Buffer) => (log += d.toString()));
      const deadline = Date.now() + 30_000;
      while (!existsSync(socket) || !log.includes('docker plugin listening')) {
        if (c.exitCode !== null) throw new Error(`keyway serve exited with ${c.exitCode}:\n${log}`);
        if (Date.now() > deadline) throw new Error(`keyway serve did not listen on ${socket}:\n${log}`);
        await sleep(50);
      }
    },
    stop,
    async cleanup() {
      await stop();
      await unmountRoot(instance.runtimeDir).catch(() => undefined);
      instance.cleanup();
    },
  };
}
