// The base of the cloud emulators: an HTTP server on 127.0.0.1 with a random port, request bodies
// collected, switches to leave requests hanging (cancellation tests) or oversized, and a stop that also drops
// open keep-alive connections, so a stopped emulator looks like a backend that went away.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Larger than the response cap of every provider (src/providers/kit/http.ts). */
const OVERSIZE_BYTES = 64 * 1024 * 1024;

/** Announces a body far larger than any client accepts, and never finishes it. */
export function answerOversize(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(OVERSIZE_BYTES) });
  res.write('{');
}

export interface EmulatorRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

export interface EmulatorResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

export abstract class HttpEmulator {
  #server: Server | undefined;
  #port = 0;
  /** When true, requests are accepted and never answered. */
  hang = false;
  /** When true, answers announce a body far larger than any client accepts (and never finish it). */
  oversize = false;
  /** Every request seen, in order (for asserting on call counts and headers). */
  readonly seen: EmulatorRequest[] = [];

  get url(): string {
    if (!this.#server) throw new Error('emulator is not running');
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  protected abstract handle(req: EmulatorRequest): EmulatorResponse | Promise<EmulatorResponse>;

  /** Starts on a random port, or on `port` again after a stop (an outage that ends). */
  async start(port = this.#port): Promise<this> {
    const server = createServer((req, res) => this.#serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = undefined;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: EmulatorRequest = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', 'http://emulator'), headers: req.headers, body: Buffer.concat(chunks) };
      this.seen.push(r);
      if (this.hang) return;
      if (this.oversize) return answerOversize(res);
      Promise.resolve()
        .then(() => this.handle(r))
        .then(
          (out) => send(res, out),
          (e: unknown) => send(res, { status: 500, body: { message: `emulator bug: ${String(e)}` } }),
        );
    });
  }
}

function send(res: ServerResponse, out: EmulatorResponse): void {
  const headers: Record<string, string> = { ...(out.headers ?? {}) };
  let body: Buffer;
  if (out.body === undefined) body = Buffer.alloc(0);
  else if (Buffer.isBuffer(out.body)) body = out.body;
  else if (typeof out.body === 'string') body = Buffer.from(out.body);
  else {
    body = Buffer.from(JSON.stringify(out.body));
    headers['content-type'] ??= 'application/json';
  }
  headers['content-length'] = String(body.length);
  res.writeHead(out.status, headers);
  res.end(body);
}

export function jsonBody(req: EmulatorRequest): unknown {
  try {
    return JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function formBody(req: EmulatorRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}
