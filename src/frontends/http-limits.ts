// Every HTTP server keyway runs (admin API, Docker plugin, metrics) is created here, so all of them
// bound what a client can hold open: a connection that never finishes its headers or its request,
// sits idle between requests, or goes silent mid-way is closed, and past a cap new connections are
// refused at accept. Without this, idle clients exhaust the file descriptors and every frontend
// stops answering.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';
import type { RequestListener, Server } from 'node:http';

// require, not `import from 'node:http'`: an ES import of node:http evaluates every export, and its
// lazy WebSocket/EventSource getters load undici with http2, tls, zlib and web streams (~13 MiB RSS
// in an idle daemon); require leaves them unloaded.
const { createServer } = createRequire(import.meta.url)('node:http') as typeof Http;

export interface HttpLimits {
  /** Time to receive the request headers (408 and close after). */
  readonly headersTimeoutMs: number;
  /** Time to receive the whole request, body included. */
  readonly requestTimeoutMs: number;
  /** How long a kept-alive connection may wait for its next request. */
  readonly keepAliveTimeoutMs: number;
  /** A socket with no traffic either way this long is destroyed; above every handler's own deadline. */
  readonly idleTimeoutMs: number;
  /** Connections open at once; more are closed as soon as they are accepted. */
  readonly maxConnections: number;
  /** How often the server sweeps for header/request timeouts (Node's default is 30 s). */
  readonly checkIntervalMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  // The Docker plugin lets a request run for 110 s; a silent socket is cut only after that.
  idleTimeoutMs: 120_000,
  // Above what Docker opens at once for many containers starting together (the load test runs 500).
  maxConnections: 1024,
  checkIntervalMs: 1_000,
};

export function createLimitedServer(handler: RequestListener, limits: Partial<HttpLimits> = {}): Server {
  const l = { ...DEFAULT_HTTP_LIMITS, ...limits };
  const server = createServer({ connectionsCheckingInterval: l.checkIntervalMs }, handler);
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.keepAliveTimeout = l.keepAliveTimeoutMs;
  server.maxConnections = l.maxConnections;
  // With no 'timeout' listener, Node destroys the idle socket.
  server.setTimeout(l.idleTimeoutMs);
  return server;
}
