// Vault status codes → keyway error codes. Vault's own error strings are included only when they
// describe the request (400, 5xx); they never contain secret data, and are truncated anyway.
import { KeywayError, type ErrorCode } from '../../core/errors.js';
import type { VaultResponse } from './http.js';

export function vaultErrors(res: VaultResponse): string[] {
  const j = res.json as { errors?: unknown } | undefined;
  if (!j || !Array.isArray(j.errors)) return [];
  return j.errors.filter((x): x is string => typeof x === 'string');
}

function codeFor(status: number, messages: string[]): ErrorCode {
  if (status === 400) return 'invalid_argument';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permission_denied';
  if (status === 404) return 'not_found';
  if (status === 412) return 'failed_precondition';
  if (status === 429) return 'throttled';
  if (status === 503 || status === 502 || status === 504) return 'unavailable';
  if (status === 500 && messages.some((m) => /sealed|standby|no leader/i.test(m))) return 'unavailable';
  return 'internal';
}

/** A KeywayError for a non-success response to `what` (e.g. `read secret/app`). */
export function vaultError(where: string, what: string, res: VaultResponse): KeywayError {
  const messages = vaultErrors(res);
  const code = codeFor(res.status, messages);
  let detail: string;
  // Not a wire map: every code without a wording of its own gets Vault's text (the default).
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check
  switch (code) {
    case 'permission_denied':
      detail = 'permission denied (the token\'s policies do not allow this, or the token is no longer valid)';
      break;
    case 'not_found':
      detail = 'not found';
      break;
    case 'unavailable':
      detail = messages.some((m) => /sealed/i.test(m)) ? 'Vault is sealed' : `Vault is unavailable (HTTP ${res.status})`;
      break;
    case 'throttled':
      detail = 'rate limited by Vault (HTTP 429)';
      break;
    case 'unauthenticated':
      detail = 'not authenticated (HTTP 401)';
      break;
    default: {
      const text = messages.join('; ').replace(/\s+/g, ' ').slice(0, 200);
      detail = `HTTP ${res.status}${text ? `: ${text}` : ''}`;
    }
  }
  return new KeywayError(code, `${where}: ${what}: ${detail}`);
}
