// Optional Prometheus endpoint on TCP (`[metrics] listen = "127.0.0.1:9464"`). Serves only
// GET /metrics; the same text is always available on the admin socket.
import type { Server } from 'node:http';
import type { Logger } from '../../core/logger.js';
import type { Frontend } from '../frontend.js';
import { createLimitedServer, type HttpLimits } from '../http-limits.js';

export class MetricsServer implements Frontend {
  readonly name = 'metrics';
  readonly #server: Server;
  readonly #host: string;
  readonly #port: number;
  readonly #logger: Logger;
  #listening = false;

  constructor(listen: string, render: () => Promise<{ contentType: string; text: string }>, logger: Logger, limits?: Partial<HttpLimits>) {
    const i = listen.lastIndexOf(':');
    this.#host = listen.slice(0, i).replace(/^\[|\]$/g, '');
    this.#port = Number(listen.slice(i + 1));
    this.#logger = logger;
    this.#server = createLimitedServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      render().then(
        (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.text),
        () => res.writeHead(500).end(),
      );
    }, limits);
  }

  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a ? a.port : this.#port;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => resolve());
    });
    this.#listening = true;
    this.#logger.info({ listen: `${this.#host}:${this.port}` }, 'metrics listening');
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
