// The gRPC side of the CSI provider: grpc-js's server with the v1alpha1 handlers, fed connections
// that CsiFrontend accepted on its own socket. Loaded on the first connection only, so a daemon
// that never sees a CSI driver does not hold grpc-js, protobufjs and the mount path in memory.
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { Socket } from 'node:net';
import { toKeywayError } from '../../core/errors.js';
import type { CsiFrontendDeps } from './server.js';
import { handleMount, type MountOutcome } from './mount.js';
import { API_VERSION, csiService, type MountRequest, type VersionRequest, type VersionResponse } from './proto.js';
import { toServiceError } from './status.js';

/** The driver's own per-call timeout is usually shorter; this bounds a call whose client vanished. */
const DEFAULT_MOUNT_TIMEOUT_MS = 60_000;

export interface CsiGrpc {
  inject(conn: Socket): void;
  /** Graceful shutdown (GOAWAY, in-flight calls answer); resolves when done. */
  drain(): Promise<void>;
  /** Cuts every call and session at once. */
  forceShutdown(): void;
  destroy(): void;
}

export function createCsiGrpc(d: CsiFrontendDeps, versionKey: () => Buffer): CsiGrpc {
  const server = new Server();
  server.addService(csiService(), {
    Version: (_call: ServerUnaryCall<VersionRequest, VersionResponse>, cb: sendUnaryData<VersionResponse>) => {
      cb(null, { version: API_VERSION, runtime_name: 'keyway', runtime_version: d.version });
    },
    Mount: (call: ServerUnaryCall<MountRequest, Buffer>, cb: sendUnaryData<Buffer>) => void mount(call, cb),
  });
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());

  async function mount(call: ServerUnaryCall<MountRequest, Buffer>, cb: sendUnaryData<Buffer>): Promise<void> {
    const started = performance.now();
    const ac = new AbortController();
    const onCancel = (): void => ac.abort();
    call.once('cancelled', onCancel);
    const signal = AbortSignal.any([ac.signal, AbortSignal.timeout(d.mountTimeoutMs ?? DEFAULT_MOUNT_TIMEOUT_MS)]);
    let out: MountOutcome;
    try {
      out = await handleMount(call.request, { resolver: d.resolver, versionKey, maxResponseBytes: d.maxResponseBytes, maxObjects: d.maxObjects, access: d.access }, signal);
    } catch (e) {
      const err = toKeywayError(e, 'mount');
      // Only the code and keyway's own message: never the request, whose attributes hold tokens.
      d.logger.warn({ code: err.code, err: err.message }, 'csi mount refused');
      cb(toServiceError(err), null);
      return;
    } finally {
      call.off('cancelled', onCancel);
    }
    const ms = Math.round((performance.now() - started) * 10) / 10;
    d.logger.info({ namespace: out.pod.namespace, pod: out.pod.name, podUid: out.pod.uid, objects: out.objects, ms }, 'csi mount');
    // The serializer wipes the encoded bytes once grpc-js has framed them (see proto.ts).
    cb(null, out.encoded);
  }

  return {
    inject: (conn) => injector.injectConnection(conn),
    drain: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    forceShutdown: () => server.forceShutdown(),
    destroy: () => injector.destroy(),
  };
}
