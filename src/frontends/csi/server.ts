// The CSI provider frontend: the v1alpha1 CSIDriverProvider gRPC service on a unix socket beside the
// Secrets Store CSI driver. The socket is ours (a net.Server created 0600 under umask, stale sockets
// replaced, a symlinked parent refused); its connections are handed to grpc-js, which accepts any
// :authority, including the driver's "localhost".
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Server, ServerCredentials, type ConnectionInjector, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { toKeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Resolver } from '../../broker/types.js';
import type { Frontend } from '../frontend.js';
import { closeUnix, listenUnix } from '../unix-socket.js';
import type { AccessPolicy } from './access.js';
import { handleMount, type MountOutcome } from './mount.js';
import { API_VERSION, csiService, type MountRequest, type VersionRequest, type VersionResponse } from './proto.js';
import { toServiceError } from './status.js';
import { loadVersionKey } from './version-key.js';

export const DEFAULT_CSI_SOCKET = '/var/run/secrets-store-csi-providers/keyway.sock';
/** The driver's own per-call timeout is usually shorter; this bounds a call whose client vanished. */
export const DEFAULT_MOUNT_TIMEOUT_MS = 60_000;
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
  readonly #grpc = new Server();
  #net: NetServer | undefined;
  #injector: ConnectionInjector | undefined;
  readonly #conns = new Set<Socket>();
  #key: Buffer | undefined;
  #closing: Promise<void> | undefined;

  constructor(deps: CsiFrontendDeps) {
    this.#d = deps;
    this.socket = deps.socket ?? DEFAULT_CSI_SOCKET;
    this.#grpc.addService(csiService(), {
      Version: (call: ServerUnaryCall<VersionRequest, VersionResponse>, cb: sendUnaryData<VersionResponse>) => {
        cb(null, { version: API_VERSION, runtime_name: 'keyway', runtime_version: this.#d.version });
      },
      Mount: (call: ServerUnaryCall<MountRequest, Buffer>, cb: sendUnaryData<Buffer>) => void this.#mount(call, cb),
    });
  }

  #versionKey = (): Buffer => (this.#key ??= loadVersionKey(this.#d.stateDir));

  async #mount(call: ServerUnaryCall<MountRequest, Buffer>, cb: sendUnaryData<Buffer>): Promise<void> {
    const started = performance.now();
    const ac = new AbortController();
    const onCancel = (): void => ac.abort();
    call.once('cancelled', onCancel);
    const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(this.#d.mountTimeoutMs ?? DEFAULT_MOUNT_TIMEOUT_MS)]);
    let out: MountOutcome;
    try {
      out = await handleMount(call.request, { resolver: this.#d.resolver, versionKey: this.#versionKey, maxResponseBytes: this.#d.maxResponseBytes, maxObjects: this.#d.maxObjects, access: this.#d.access }, signal);
    } catch (e) {
      const err = toKeywayError(e, 'mount');
      // Only the code and keyway's own message: never the request, whose attributes hold tokens.
      this.#d.logger.warn({ code: err.code, err: err.message }, 'csi mount refused');
      cb(toServiceError(err), null);
      return;
    } finally {
      call.off('cancelled', onCancel);
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    this.#d.logger.info({ namespace: out.pod.namespace, pod: out.pod.name, podUid: out.pod.uid, objects: out.objects, ms }, 'csi mount');
    // The serializer wipes the encoded bytes once grpc-js has framed them (see proto.ts).
    cb(null, out.encoded);
  }

  async start(): Promise<void> {
    if (this.#net) return;
    const injector = this.#grpc.createConnectionInjector(ServerCredentials.createInsecure());
    const net = createServer((conn) => {
      this.#conns.add(conn);
      conn.once('close', () => this.#conns.delete(conn));
      injector.injectConnection(conn);
    });
    try {
      await listenUnix(net, this.socket, 0o600, 'CSI provider');
    } catch (e) {
      injector.destroy();
      throw e;
    }
    this.#injector = injector;
    this.#net = net;
    this.#d.logger.info({ socket: this.socket }, 'CSI provider listening');
    if (!this.#d.access) this.#d.logger.warn('CSI provider has no [csi.access] policy: pods in every namespace can mount every secret keyway can reach');
  }

  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  async #close(): Promise<void> {
    const net = this.#net;
    const injector = this.#injector;
    if (!net || !injector) {
      this.#grpc.forceShutdown();
      return;
    }
    // Stop accepting; then a graceful shutdown sends GOAWAY and waits for in-flight mounts to
    // answer and their sessions to close. Only past the grace period are calls cut.
    const closed = closeUnix(net, this.socket);
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#grpc.forceShutdown();
        resolve();
      }, DRAIN_MS);
      this.#grpc.tryShutdown(() => resolve());
    });
    clearTimeout(timer);
    // A closing session ends its connection once the last response is flushed; destroying it
    // earlier would drop that response (Node 24 reports the session closed before the flush).
    const ended = Promise.all([...this.#conns].map((c) => new Promise((resolve) => c.once('close', resolve))));
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
    injector.destroy();
    for (const c of this.#conns) c.destroy();
    await closed;
    this.#key?.fill(0);
  }
}
