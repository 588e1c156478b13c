// The CSI provider frontend: the v1alpha1 CSIDriverProvider gRPC service on a unix socket beside the
// Secrets Store CSI driver. The socket is ours (a net.Server created 0600 under umask, stale sockets
// replaced, a symlinked parent refused); its connections are handed to grpc-js, which accepts any
// :authority, including the driver's "localhost". grpc-js and the mount path (grpc.ts) load when
// the first connection arrives: a root daemon runs this frontend by default on hosts that may
// never run a CSI driver, and would otherwise hold ~15 MiB of modules for nothing.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from '../../core/logger.js';
import type { Resolver } from '../../broker/types.js';
import type { Frontend } from '../frontend.js';
import { closeUnix, listenUnix } from '../unix-socket.js';
import type { AccessPolicy } from './access.js';
import type { CsiGrpc } from './grpc.js';
import { protoPath } from './proto-path.js';
import { loadVersionKey } from './version-key.js';

export const DEFAULT_CSI_SOCKET = '/var/run/secrets-store-csi-providers/keyway.sock';
/** How long close() lets in-flight mounts finish before cutting connections. */
const DRAIN_MS = 5_000;

export interface CsiFrontendDeps {
  readonly socket?: string;
  readonly resolver: Resolver;
  readonly logger: Logger;
  /** Holds the per-installation version key (created on first mount). */
  readonly stateDir: string;
  readonly version: string;
  readonly mountTimeoutMs?: number;
  readonly maxResponseBytes?: number;
  /** Objects one Mount may name (`csi.max_objects`). */
  readonly maxObjects?: number;
  /** `[csi.access]`: namespace (or "*") → allowed targets; without it every namespace may mount anything. */
  readonly access?: AccessPolicy;
}

export class CsiFrontend implements Frontend {
  readonly name = 'csi';
  readonly socket: string;
  readonly #d: CsiFrontendDeps;
  #net: NetServer | undefined;
  #grpc: Promise<CsiGrpc> | undefined;
  readonly #conns = new Set<Socket>();
  #key: Buffer | undefined;
  #closing: Promise<void> | undefined;

  constructor(deps: CsiFrontendDeps) {
    this.#d = deps;
    this.socket = deps.socket ?? DEFAULT_CSI_SOCKET;
  }

  #versionKey = (): Buffer => (this.#key ??= loadVersionKey(this.#d.stateDir));

  /** The gRPC server, loaded once; its bytes queue in the socket until it takes the connection. */
  #loadGrpc(): Promise<CsiGrpc> {
    return (this.#grpc ??= import('./grpc.js').then((m) => m.createCsiGrpc(this.#d, this.#versionKey)));
  }

  #accept(conn: Socket): void {
    this.#conns.add(conn);
    conn.once('close', () => this.#conns.delete(conn));
    // Until grpc-js takes the socket, a reset must not surface as an unhandled 'error'.
    const onError = (): void => void conn.destroy();
    conn.on('error', onError);
    this.#loadGrpc().then(
      (grpc) => {
        conn.off('error', onError);
        if (!conn.destroyed && this.#closing === undefined) grpc.inject(conn);
        else conn.destroy();
      },
      (e: unknown) => {
        this.#d.logger.error({ err: e instanceof Error ? e.message : String(e) }, 'CSI provider could not load its gRPC server');
        conn.destroy();
      },
    );
  }

  async start(): Promise<void> {
    if (this.#net) return;
    // A package installed without proto/ fails here, at start, not at the driver's first call.
    protoPath();
    const net = createServer((conn) => this.#accept(conn));
    await listenUnix(net, this.socket, 0o600, 'CSI provider');
    this.#net = net;
    this.#d.logger.info({ socket: this.socket }, 'CSI provider listening');
    if (!this.#d.access) this.#d.logger.warn('CSI provider has no [csi.access] policy: pods in every namespace can mount every secret keyway can reach');
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    const net = this.#net;
    if (!net) return;
    // Stop accepting; then a graceful shutdown sends GOAWAY and waits for in-flight mounts to
    // answer and their sessions to close. Only past the grace period are calls cut.
    const closed = closeUnix(net, this.socket);
    const grpc = await this.#grpc?.catch(() => undefined);
    if (grpc) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          grpc.forceShutdown();
          resolve();
        }, DRAIN_MS);
        void grpc.drain().then(resolve);
      });
      clearTimeout(timer);
      // A closing session ends its connection once the last response is flushed; destroying it
      // earlier would drop that response (Node 24 reports the session closed before the flush).
      const ended = Promise.all([...this.#conns].map((c) => new Promise((resolve) => c.once('close', resolve))));
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
      grpc.destroy();
    }
    for (const c of this.#conns) c.destroy();
    await closed;
    this.#key?.fill(0);
  }
}
