// The HTTP side of a Docker plugin: POST /<Method> with a JSON body over a unix socket. Docker
// sends no Content-Type and Podman sends its own, so any Content-Type and Accept are accepted;
// the answer is always JSON. Bodies are capped, every request gets a deadline and is cancelled
// when the peer goes away, and a handler's failure never takes the server down.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { KeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { closeUnix, listenUnix } from '../unix-socket.js';
import { createLimitedServer, type HttpLimits } from '../http-limits.js';
import { PLUGIN_CONTENT_TYPE, wireError, wireNotImplemented, wireOk, type WireReply } from './wire.js';

export type PluginHandler = (body: Record<string, unknown>, signal: AbortSignal) => Promise<WireReply> | WireReply;

export interface PluginServerOptions {
  readonly socket: string;
  /** Socket file mode (default 0660: root and the docker group). */
  readonly mode?: number;
  readonly logger: Logger;
  readonly maxBodyBytes?: number;
  /** Per-request deadline; Docker itself gives up after 1-2 minutes, Podman after 5 s. */
  readonly requestTimeoutMs?: number;
  /** Names the server in errors ("docker plugin"). */
  readonly what?: string;
  /** An already listening socket handed over by systemd (socket activation): used instead of `socket`. */
  readonly fd?: number;
  /** Connection timeouts and cap (defaults in http-limits.ts). */
  readonly limits?: Partial<HttpLimits>;
}

const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 110_000;

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the limit, drain (so the peer can read our error) but keep nothing; far past it, hang up.
      if (size > max * 8) req.destroy();
      else if (size <= max) chunks.push(c);
    });
    req.on('end', () => (size > max ? reject(new KeywayError('too_large', `request body is larger than ${max} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function parseBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text === '' || text === 'null') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeywayError('invalid_argument', 'request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new KeywayError('invalid_argument', 'request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

export class PluginServer {
  readonly #o: PluginServerOptions;
  readonly #server: Server;
  readonly #routes = new Map<string, PluginHandler>();
  readonly #inflight = new Set<AbortController>();
  #listening = false;

  constructor(opts: PluginServerOptions) {
    this.#o = opts;
    this.#server = createLimitedServer((req, res) => void this.#handle(req, res), opts.limits);
  }

  /** Registers `/<Method>` (e.g. "/VolumeDriver.Mount"). */
  route(path: string, handler: PluginHandler): void {
    this.#routes.set(path, handler);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const ac = new AbortController();
    this.#inflight.add(ac);
    // The peer hanging up (Docker's own timeout) cancels the work behind the request.
    res.on('close', () => {
      if (!res.writableFinished) ac.abort(new KeywayError('cancelled', `${path}: the client went away`));
    });
    const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(this.#o.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS)]);
    let reply: WireReply;
    try {
      const handler = this.#routes.get(path);
      const raw = await readBody(req, this.#o.maxBodyBytes ?? DEFAULT_MAX_BODY);
      if (!handler) {
        reply = wireNotImplemented(this.#o.what ?? 'plugin', path);
      } else {
        reply = await handler(parseBody(raw), signal);
      }
    } catch (e) {
      reply = wireError(e);
      this.#o.logger.warn({ path, err: String(reply.body.Err) }, 'plugin request failed');
    } finally {
      this.#inflight.delete(ac);
    }
    if (res.destroyed) return;
    const text = Buffer.from(JSON.stringify(reply.body));
    res.writeHead(reply.status, { 'content-type': PLUGIN_CONTENT_TYPE, 'content-length': text.length });
    res.end(text);
    // A body can carry secret bytes (Swarm's Value): wipe our copy once it is handed to the socket.
    if (reply.sensitive) res.once('finish', () => text.fill(0));
  }

  get socket(): string {
    return this.#o.socket;
  }

  async start(): Promise<void> {
    const fd = this.#o.fd;
    if (fd !== undefined) {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen({ fd }, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    } else {
      await listenUnix(this.#server, this.#o.socket, this.#o.mode ?? 0o660, this.#o.what ?? 'docker plugin');
    }
    this.#listening = true;
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    for (const ac of this.#inflight) ac.abort(new KeywayError('cancelled', 'keyway is shutting down'));
    this.#server.closeIdleConnections();
    // An activated socket belongs to systemd, which keeps it (and queues connections) across restarts.
    if (this.#o.fd !== undefined) await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    else await closeUnix(this.#server, this.#o.socket);
  }
}

export { wireOk };
