// The admin API, the Docker plugin and the metrics endpoint share one set of connection limits:
// idle clients are closed after a timeout, and past the cap new connections are refused, so a
// flood of idle clients cannot use up the daemon's file descriptors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/logger.js';
import { AdminApi } from '../../src/frontends/api/server.js';
import { PluginServer } from '../../src/frontends/docker-volume/http.js';
import { MetricsServer } from '../../src/frontends/metrics/server.js';
import type { HttpLimits } from '../../src/frontends/http-limits.js';

type Address = { socketPath: string } | { host: string; port: number };

interface Target {
  readonly address: Address;
  /** A request the server answers with 200. */
  readonly method: string;
  readonly path: string;
  close(): Promise<void>;
}

// Short limits for the test; the socket idle timeout is long here so that it cannot stand in for
// the header and keep-alive timeouts (it has its own test). Node's defaults are 60 s for headers
// and 5 s for keep-alive, so the waits below (4 s) fail without these settings.
const LIMITS: Partial<HttpLimits> = { headersTimeoutMs: 500, requestTimeoutMs: 500, keepAliveTimeoutMs: 300, idleTimeoutMs: 60_000, maxConnections: 4, checkIntervalMs: 100 };
const WAIT_MS = 4_000;

async function adminApi(dir: string, limits = LIMITS): Promise<Target> {
  const socket = join(dir, 'api.sock');
  const api = new AdminApi({ socket, version: 't', logger: silentLogger(), listSecrets: () => [], getSecret: () => undefined, toJson: () => ({}), limits });
  await api.start();
  return { address: { socketPath: socket }, method: 'GET', path: '/v1/health', close: () => api.close() };
}

async function dockerPlugin(dir: string, limits = LIMITS): Promise<Target> {
  const socket = join(dir, 'plugin.sock');
  const server = new PluginServer({ socket, logger: silentLogger(), limits });
  server.route('/Plugin.Activate', () => ({ status: 200, body: { Implements: ['VolumeDriver'] } }));
  await server.start();
  return { address: { socketPath: socket }, method: 'POST', path: '/Plugin.Activate', close: () => server.close() };
}

async function metrics(_dir: string, limits = LIMITS): Promise<Target> {
  const server = new MetricsServer('127.0.0.1:0', async () => ({ contentType: 'text/plain', text: 'up 1\n' }), silentLogger(), limits);
  await server.start();
  return { address: { host: '127.0.0.1', port: server.port }, method: 'GET', path: '/metrics', close: () => server.close() };
}

const SERVERS: [string, (dir: string, limits?: Partial<HttpLimits>) => Promise<Target>][] = [
  ['admin API', adminApi],
  ['Docker plugin', dockerPlugin],
  ['metrics endpoint', metrics],
];

/** An open raw connection that tracks whether the server closed it. */
interface Idle {
  readonly socket: Socket;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

async function openIdle(address: Address): Promise<Idle> {
  const socket = 'socketPath' in address ? connect(address.socketPath) : connect(address.port, address.host);
  let done = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(() => (done = true));
  socket.on('error', () => undefined);
  socket.on('data', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed, isClosed: () => done };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function call(t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ ...t.address, method: t.method, path: t.path, agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(t.method === 'POST' ? '{}' : undefined);
  });
}

for (const [name, start] of SERVERS) {
  test(`the ${name} closes connections that send nothing and kept-alive connections left idle`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-http-limits-'));
    const target = await start(dir);
    const open: Socket[] = [];
    t.after(async () => {
      for (const s of open) s.destroy();
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const silent = await openIdle(target.address);
    open.push(silent.socket);
    await within(silent.closed, WAIT_MS, 'a connection that never sent headers was closed');

    const kept = await openIdle(target.address);
    open.push(kept.socket);
    const answered = new Promise<string>((resolve) => {
      let text = '';
      kept.socket.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('\r\n\r\n')) resolve(text);
      });
    });
    kept.socket.write(`${target.method} ${target.path} HTTP/1.1\r\nHost: keyway\r\nContent-Length: 2\r\n\r\n{}`);
    assert.match(await answered, /^HTTP\/1\.1 200 /);
    await within(kept.closed, WAIT_MS, 'an idle kept-alive connection was closed');
  });

  test(`the ${name} destroys a socket with no traffic once the idle timeout passes`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-http-limits-'));
    // Header and request timeouts far away: only the socket idle timeout can close it in time.
    const target = await start(dir, { ...LIMITS, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, idleTimeoutMs: 300 });
    const partial = await openIdle(target.address);
    t.after(async () => {
      partial.socket.destroy();
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    });
    partial.socket.write(`${target.method} ${target.path} HTTP/1.1\r\nHost: keyway\r\n`);
    await within(partial.closed, WAIT_MS, 'a silent half-sent request was closed');
  });

  test(`the ${name} refuses connections over its cap and serves again once idle ones are gone`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-http-limits-'));
    const target = await start(dir);
    const idle: Idle[] = [];
    t.after(async () => {
      for (const c of idle) c.socket.destroy();
      await target.close();
      rmSync(dir, { recursive: true, force: true });
    });
    for (let i = 0; i < 4; i++) idle.push(await openIdle(target.address));
    const over = await openIdle(target.address).catch(() => undefined);
    if (over) {
      idle.push(over);
      await within(over.closed, 1_000, 'the connection over the cap was closed');
    }
    assert.deepEqual(
      idle.slice(0, 4).map((c) => c.isClosed()),
      [false, false, false, false],
      'the connections under the cap are still open',
    );
    await assert.rejects(call(target), 'a request while the cap is reached is refused');
    await within(Promise.all(idle.map((c) => c.closed)), WAIT_MS, 'the idle connections were closed');
    assert.equal(await call(target), 200);
  });
}
