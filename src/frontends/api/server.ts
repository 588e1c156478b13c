// The admin API: HTTP + JSON on a 0600 unix socket in the runtime dir. Health, and named secrets
// without values. Other frontends and tools (metrics, fast lookups) hang further routes here.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { KeywayError, toKeywayError, type ErrorCode } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SecretRecord } from '../../store/secrets.js';
import type { SecretValue } from '../../core/secret-value.js';
import { closeUnix, listenUnix } from '../unix-socket.js';
import { createLimitedServer, type HttpLimits } from '../http-limits.js';
import type { Frontend } from '../frontend.js';

export interface AdminApiDeps {
  readonly socket: string;
  readonly version: string;
  readonly logger: Logger;
  readonly listSecrets: () => SecretRecord[];
  readonly getSecret: (name: string) => SecretRecord | undefined;
  readonly toJson: (r: SecretRecord) => Record<string, unknown>;
  /** Connection timeouts and cap (defaults in http-limits.ts). */
  readonly limits?: Partial<HttpLimits>;
}

export type Route = (req: IncomingMessage, url: URL, res: ServerResponse) => Promise<unknown> | unknown;

/** A non-JSON answer: Prometheus text, or secret bytes (zeroed once written). */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly text: string | SecretValue,
  ) {}
}

const MAX_BODY = 64 * 1024;

/** Reads a small JSON object request body; anything else (`null`, a list, not JSON) is invalid_argument. */
export function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new KeywayError('too_large', `request body over ${MAX_BODY} bytes`));
      } else chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        reject(new KeywayError('invalid_argument', 'request body is not JSON'));
        return;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) reject(new KeywayError('invalid_argument', 'request body must be a JSON object'));
      else resolve(parsed as Record<string, unknown>);
    });
  });
}

/** The request URL; a malformed one is the client's mistake. */
function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://keyway');
  } catch {
    throw new KeywayError('invalid_argument', 'request URL is malformed');
  }
}

/** One %-decoded path segment; a bad escape is invalid_argument, not a crash. */
function decodeSegment(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new KeywayError('invalid_argument', `${what} has a malformed %-escape`);
  }
}

/** Aborted when the client goes away, so abandoned requests stop waiting on backends. */
export function requestSignal(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort(new KeywayError('cancelled', 'client disconnected'));
  });
  return ac.signal;
}

/** HTTP status per error code: a Record, so a new code does not compile until it has one here. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 403,
  unavailable: 503,
  throttled: 503,
  timeout: 504,
  cancelled: 500,
  too_large: 413,
  checksum_mismatch: 500,
  failed_precondition: 500,
  unsupported: 500,
  internal: 500,
};

export class AdminApi implements Frontend {
  readonly name = 'api';
  readonly #d: AdminApiDeps;
  readonly #server: Server;
  readonly #routes = new Map<string, Route>();
  #listening = false;

  constructor(deps: AdminApiDeps) {
    this.#d = deps;
    this.#server = createLimitedServer((req, res) => void this.#handle(req, res), deps.limits);
    this.route('GET /v1/health', () => ({ status: 'ok', version: deps.version }));
    this.route('GET /v1/secrets', () => deps.listSecrets().map(deps.toJson));
  }

  /** Adds `METHOD /path` (exact match; `/v1/secrets/NAME` is built in). */
  route(key: string, handler: Route): void {
    this.#routes.set(key, handler);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 200;
    let body: unknown;
    try {
      const url = requestUrl(req);
      const key = `${req.method ?? 'GET'} ${url.pathname}`;
      const route = this.#routes.get(key);
      if (route) body = await route(req, url, res);
      else if (req.method === 'GET' && url.pathname.startsWith('/v1/secrets/')) {
        const name = decodeSegment(url.pathname.slice('/v1/secrets/'.length), 'secret name in the path');
        const r = this.#d.getSecret(name);
        if (!r) throw new KeywayError('not_found', `no secret named ${JSON.stringify(name)}`);
        body = this.#d.toJson(r);
      } else throw new KeywayError('not_found', `no route ${req.method} ${url.pathname}`);
    } catch (e) {
      const err = toKeywayError(e);
      status = HTTP_STATUS[err.code];
      body = { error: { code: err.code, message: err.message } };
    }
    if (body instanceof RawBody) {
      const payload = body.text;
      if (typeof payload === 'string') {
        res.writeHead(status, { 'content-type': body.contentType, 'content-length': Buffer.byteLength(payload) });
        res.end(payload);
      } else {
        // The socket copies the bytes when written; the value is wiped once the write is done.
        res.writeHead(status, { 'content-type': body.contentType, 'content-length': payload.length, 'cache-control': 'no-store' });
        res.end(payload.expose(), () => payload.zero());
      }
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async start(): Promise<void> {
    await listenUnix(this.#server, this.#d.socket, 0o600, 'admin API');
    this.#listening = true;
    this.#d.logger.info({ socket: this.#d.socket }, 'admin API listening');
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    this.#server.closeIdleConnections();
    await closeUnix(this.#server, this.#d.socket);
  }
}
