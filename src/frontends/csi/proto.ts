// Loads the v1alpha1 provider API at runtime from proto/ in the package root (proto-path.ts).
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { KeywayError } from '../../core/errors.js';
import { PROTO_RELATIVE, protoPath } from './proto-path.js';

export const SERVICE_NAME = 'v1alpha1.CSIDriverProvider';
/** The API version the driver asks for in its health check. */
export const API_VERSION = 'v1alpha1';

export interface ObjectVersion {
  id: string;
  version: string;
}
export interface CsiFile {
  path: string;
  mode: number;
  contents: Buffer;
}
export interface VersionRequest {
  version: string;
}
export interface VersionResponse {
  version: string;
  runtime_name: string;
  runtime_version: string;
}
export interface MountRequest {
  attributes: string;
  secrets: string;
  target_path: string;
  permission: string;
  current_object_version: ObjectVersion[];
}
export interface MountResponse {
  object_version: ObjectVersion[];
  error?: { code: string } | null;
  files: CsiFile[];
}

let cached: ServiceDefinition | undefined;

/**
 * The service definition with snake_case field names, as on the wire. Loaded once per process.
 * Mount's serializer also accepts an already-encoded Buffer (and wipes it once copied), so the
 * server can measure the exact encoded size before sending without encoding twice.
 */
export function csiService(): ServiceDefinition {
  if (cached) return cached;
  const def = loadSync(protoPath(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const svc = def[SERVICE_NAME] as ServiceDefinition | undefined;
  if (!svc || !('Mount' in svc) || !('Version' in svc)) throw new KeywayError('internal', `${PROTO_RELATIVE} does not define ${SERVICE_NAME} with Version and Mount`);
  const mount = svc['Mount'];
  if (!mount) throw new KeywayError('internal', `${SERVICE_NAME}.Mount missing`);
  const encode = mount.responseSerialize;
  cached = {
    ...svc,
    Mount: {
      ...mount,
      responseSerialize: (value: unknown): Buffer => {
        if (!Buffer.isBuffer(value)) return encode(value);
        // grpc-js copies the result into its frame synchronously after this returns; wiping in a
        // microtask clears our copy of the secret bytes without racing that copy.
        queueMicrotask(() => value.fill(0));
        return value;
      },
    },
  };
  return cached;
}

/** Encodes a MountResponse exactly as it goes on the wire (without gRPC's 5-byte frame header). */
export function encodeMountResponse(res: MountResponse): Buffer {
  const mount = csiService()['Mount'];
  if (!mount) throw new KeywayError('internal', `${SERVICE_NAME}.Mount missing`);
  return mount.responseSerialize(res);
}
