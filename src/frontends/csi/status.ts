// The one place where KeywayError codes become gRPC statuses for the CSI driver. The status
// message carries keyway's message (it names what was wrong, never secret bytes); the stable code
// also travels as the `keyway-error-code` trailer, the same string a MountResponse Error.code holds.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { ErrorCode, KeywayError } from '../../core/errors.js';

export const ERROR_CODE_TRAILER = 'keyway-error-code';

/** A Record, so a new code in core/errors.ts does not compile until it has a status here. */
export const GRPC_STATUS: Readonly<Record<ErrorCode, status>> = {
  invalid_argument: status.INVALID_ARGUMENT,
  not_found: status.NOT_FOUND,
  already_exists: status.ALREADY_EXISTS,
  permission_denied: status.PERMISSION_DENIED,
  unauthenticated: status.UNAUTHENTICATED,
  // The driver retries UNAVAILABLE itself; only a backend outage should look like that.
  unavailable: status.UNAVAILABLE,
  throttled: status.RESOURCE_EXHAUSTED,
  too_large: status.RESOURCE_EXHAUSTED,
  timeout: status.DEADLINE_EXCEEDED,
  cancelled: status.CANCELLED,
  checksum_mismatch: status.DATA_LOSS,
  failed_precondition: status.FAILED_PRECONDITION,
  unsupported: status.UNIMPLEMENTED,
  internal: status.INTERNAL,
};

export function toServiceError(err: KeywayError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_TRAILER, err.code);
  return { code: GRPC_STATUS[err.code], details: `${err.code}: ${err.message}`, metadata };
}
