// Vault status codes → keyway error codes, through the shared table (../kit/status.ts): 5xx and 429
// are retried like every provider's. Vault's own error strings are included only when they describe
// the request (400, other 4xx, 500); they never contain secret data, and are truncated anyway.
import { KeywayError } from '../../core/errors.js';
import { codeForStatus } from '../kit/status.js';
import { oneLine } from '../../core/one-line.js';
import type { VaultResponse } from './http.js';

function vaultErrors(res: VaultResponse): string[] {
  const j = res.json as { errors?: unknown } | undefined;
  if (!j || !Array.isArray(j.errors)) return [];
  return j.errors.filter((x): x is string => typeof x === 'string');
}

/** A KeywayError for a non-success response to `what` (e.g. `read secret/app`). */
export function vaultError(where: string, what: string, res: VaultResponse): KeywayError {
  const messages = vaultErrors(res);
  const code = codeForStatus(res.status);
  const text = vaultText(res, 200);
  let detail: string;
  if (messages.some((m) => /sealed/i.test(m)) && res.status >= 500) detail = 'Vault is sealed';
  // 502 and 504 come from a proxy or load balancer before Vault; 504 means it gave up waiting.
  else if (res.status === 504) detail = 'Vault did not answer in time (HTTP 504 from a gateway before it)';
  else if (res.status === 502 || res.status === 503) detail = `Vault is unavailable (HTTP ${res.status})`;
  else if (code === 'permission_denied') detail = 'permission denied (the token\'s policies do not allow this, or the token is no longer valid)';
  else if (code === 'not_found') detail = 'not found';
  else if (code === 'throttled') detail = 'rate limited by Vault (HTTP 429)';
  else if (code === 'unauthenticated') detail = 'not authenticated (HTTP 401)';
  else detail = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
  return new KeywayError(code, `${where}: ${what}: ${detail}`);
}

/** Vault's error messages on one line, cut at `max` characters. */
export function vaultText(res: VaultResponse, max: number): string {
  return oneLine(vaultErrors(res).join('; ')).slice(0, max);
}
