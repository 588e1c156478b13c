// The one HTTP status → keyway code table of the built-in providers. Server errors, rate limits and
// gateway timeouts become codes the broker retries (unavailable, throttled, timeout); a provider
// overrides a status only from a documented error body of its API (AWS `__type`, GCP `status`,
// Azure `error.code`), never by status alone.
import type { ErrorCode } from '../../core/errors.js';

export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 412) return 'failed_precondition';
  if (status === 429) return 'throttled';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'unavailable';
  if (status >= 400) return 'invalid_argument';
  return 'internal';
}
