// The daemon side of the fast Podman lookup: a 0600 unix socket answering one line
// `lookup <id> <hex state dir>` with `ok <size>\n<bytes>`, `err <code> <message>\n`, or
// `other-store\n` when the client belongs to another state dir (it then looks up in-process).
// bin/keyway-podman-lookup is the client; it exists because Podman pays a process start for every
// `podman run --secret`, and a Node start alone costs more than the whole budget.
import { createServer, type Server, type Socket } from 'node:net';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { Frontend } from '../frontend.js';
import { closeUnix, listenUnix } from '../unix-socket.js';

export const LOOKUP_SOCKET_NAME = 'podman-lookup.sock';
/** Podman has no timeout and holds its secrets lock meanwhile, so keyway bounds every lookup. */
export const LOOKUP_TIMEOUT_MS = 60_000;
const MAX_REQUEST = 4096;
const REQUEST_TIMEOUT_MS = 10_000;

export interface LookupServerDeps {
  readonly socket: string;
  readonly stateDir: string;
  readonly logger: Logger;
  readonly lookup: (id: string, signal: AbortSignal) => Promise<SecretValue>;
}

export class PodmanLookupServer implements Frontend {
  readonly name = 'podman-lookup';
  readonly #d: LookupServerDeps;
  readonly #server: Server;
  readonly #idle = new Set<Socket>();
  #listening = false;

  constructor(deps: LookupServerDeps) {
    this.#d = deps;
    this.#server = createServer((s) => this.#accept(s));
  }

  #accept(s: Socket): void {
    this.#idle.add(s);
    let buf = Buffer.alloc(0);
    const ac = new AbortController();
    s.on('error', () => ac.abort(new KeywayError('cancelled', 'client went away')));
    s.on('close', () => {
      this.#idle.delete(s);
      ac.abort(new KeywayError('cancelled', 'client went away'));
    });
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > MAX_REQUEST) this.#reply(s, errLine(new KeywayError('invalid_argument', 'request line too long')));
        return;
      }
      s.off('data', onData);
      this.#idle.delete(s);
      void this.#serve(s, buf.subarray(0, nl).toString('latin1'), ac.signal);
    };
    s.on('data', onData);
    // A client that connects and never finishes its request line must not hold a socket forever.
    s.setTimeout(REQUEST_TIMEOUT_MS, () => {
      if (this.#idle.has(s)) s.destroy();
    });
  }

  async #serve(s: Socket, line: string, clientGone: AbortSignal): Promise<void> {
    const m = /^lookup ([0-9a-f]{1,64}) ([0-9a-f]*)$/.exec(line);
    if (!m || m[1] === undefined || m[2] === undefined) {
      this.#reply(s, errLine(new KeywayError('invalid_argument', 'malformed lookup request')));
      return;
    }
    if (Buffer.from(m[2], 'hex').toString('utf8') !== this.#d.stateDir) {
      this.#reply(s, Buffer.from('other-store\n'));
      return;
    }
    let value: SecretValue | undefined;
    try {
      value = await this.#d.lookup(m[1], AbortSignal.any([clientGone, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]));
      const bytes = value.expose();
      // One write of header and bytes: the socket copies them, so the buffer can be zeroed after.
      const out = Buffer.allocUnsafeSlow(bytes.length + 32);
      const head = Buffer.from(`ok ${bytes.length}\n`);
      head.copy(out, 0);
      bytes.copy(out, head.length);
      const frame = out.subarray(0, head.length + bytes.length);
      s.end(frame, () => out.fill(0));
    } catch (e) {
      const err = toKeywayError(e, 'podman lookup');
      this.#d.logger.debug({ code: err.code }, 'podman lookup failed');
      this.#reply(s, errLine(err));
    } finally {
      value?.zero();
    }
  }

  #reply(s: Socket, bytes: Buffer): void {
    if (!s.destroyed) s.end(bytes);
  }

  async start(): Promise<void> {
    await listenUnix(this.#server, this.#d.socket, 0o600, 'podman lookup socket');
    this.#listening = true;
    this.#d.logger.info({ socket: this.#d.socket }, 'podman lookup socket listening');
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    for (const s of this.#idle) s.destroy();
    await closeUnix(this.#server, this.#d.socket);
  }
}

function errLine(e: KeywayError): Buffer {
  return Buffer.from(`err ${e.code} ${e.message.replace(/[\r\n]+/g, ' ')}\n`);
}
