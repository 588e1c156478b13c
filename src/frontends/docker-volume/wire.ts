// The one place where keyway errors become Docker plugin wire errors (volume driver and Swarm
// secret provider alike). Docker and Podman read `Err` from any non-200 answer (Podman ignores
// it on 200): bad input is HTTP 400, every other failure HTTP 500, both with
// {"Err": "keyway: <code>: <message>"}.
import { toKeywayError, type ErrorCode } from '../../core/errors.js';

export const PLUGIN_CONTENT_TYPE = 'application/vnd.docker.plugins.v1+json';

export interface WireReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The body carries secret bytes: the server wipes its encoded copy after sending. */
  readonly sensitive?: boolean;
}

/** HTTP status per error code: a Record, so a new code does not compile until it has one here. */
export const PLUGIN_HTTP_STATUS: Readonly<Record<ErrorCode, 400 | 500>> = {
  invalid_argument: 400,
  not_found: 500,
  already_exists: 500,
  permission_denied: 500,
  unauthenticated: 500,
  unavailable: 500,
  throttled: 500,
  timeout: 500,
  cancelled: 500,
  too_large: 500,
  checksum_mismatch: 500,
  failed_precondition: 500,
  unsupported: 500,
  internal: 500,
};

export function wireError(e: unknown, context?: string): WireReply {
  const err = toKeywayError(e, context);
  return { status: PLUGIN_HTTP_STATUS[err.code], body: { Err: `keyway: ${err.code}: ${err.message}` } };
}

export function wireOk(body: Record<string, unknown> = {}): WireReply {
  return { status: 200, body };
}

/** An endpoint this plugin does not implement: 404, which Docker reads as "not supported". */
export function wireNotImplemented(what: string, path: string): WireReply {
  return { status: 404, body: { Err: `keyway: unsupported: ${what} does not implement ${path}` } };
}
