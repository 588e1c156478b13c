// The one place where KeywayError codes become gRPC statuses for the CSI driver. The status
// message carries keyway's message (it names what was wrong, never secret bytes); the stable code
// also travels as the `keyway-error-code` trailer, the same string a MountResponse Error.code holds.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { ErrorCode, KeywayError } from '../../core/errors.js';

export const ERROR_CODE_TRAILER = 'keyway-error-code';

export function grpcStatus(code: ErrorCode): status {
  switch (code) {
    case 'invalid_argument':
      return status.INVALID_ARGUMENT;
    case 'not_found':
      return status.NOT_FOUND;
    case 'already_exists':
      return status.ALREADY_EXISTS;
    case 'permission_denied':
      return status.PERMISSION_DENIED;
    case 'unauthenticated':
      return status.UNAUTHENTICATED;
    // The driver retries UNAVAILABLE itself; only a backend outage should look like that.
    case 'unavailable':
      return status.UNAVAILABLE;
    case 'throttled':
    case 'too_large':
      return status.RESOURCE_EXHAUSTED;
    case 'timeout':
      return status.DEADLINE_EXCEEDED;
    case 'cancelled':
      return status.CANCELLED;
    case 'checksum_mismatch':
      return status.DATA_LOSS;
    case 'failed_precondition':
      return status.FAILED_PRECONDITION;
    case 'unsupported':
      return status.UNIMPLEMENTED;
    case 'internal':
      return status.INTERNAL;
  }
}

export function toServiceError(err: KeywayError): Partial<ServiceError> {
  const metadata = new Metadata();
  metadata.set(ERROR_CODE_TRAILER, err.code);
  return { code: grpcStatus(err.code), details: `${err.code}: ${err.message}`, metadata };
}
