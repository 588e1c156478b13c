// The Key Vault authentication challenge: an unauthenticated request is answered 401 with
// `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
// resource="https://vault.azure.net"` (or `scope=`), which tells the client which tenant and token
// audience the vault wants.
import { KeywayError } from '../../core/errors.js';

export interface Challenge {
  /** Token scope, e.g. `https://vault.azure.net/.default`. */
  readonly scope: string;
  /** Tenant id or domain from the `authorization` URL, if any. */
  readonly tenant?: string;
}

export function parseChallenge(header: string | undefined, what: string): Challenge {
  if (!header || !/^Bearer\s/i.test(header.trim())) throw new KeywayError('unauthenticated', `${what}: the vault answered 401 without a Bearer challenge`);
  const params = new Map<string, string>();
  for (const m of header.matchAll(/([A-Za-z_]+)="([^"]*)"/g)) params.set((m[1] ?? '').toLowerCase(), m[2] ?? '');
  const auth = params.get('authorization') ?? params.get('authorization_uri');
  let scope = params.get('scope');
  const resource = params.get('resource');
  if (!scope && resource) scope = `${resource.replace(/\/+$/, '')}/.default`;
  if (!scope) throw new KeywayError('unauthenticated', `${what}: the vault's challenge names neither resource nor scope`);
  let tenant: string | undefined;
  if (auth) {
    try {
      tenant = new URL(auth).pathname.split('/').filter((s) => s.length > 0)[0];
    } catch {
      throw new KeywayError('unauthenticated', `${what}: the vault's challenge has an invalid authorization URL`);
    }
  }
  return { scope, ...(tenant ? { tenant } : {}) };
}

/**
 * The challenge's resource must belong to the vault's domain (the SDKs' "challenge resource
 * verification"): otherwise a server could ask for a token meant for another service.
 */
export function verifyChallengeResource(challenge: Challenge, vaultUrl: string, what: string): void {
  const resourceHost = new URL(challenge.scope.replace(/\/\.default$/, '')).hostname;
  const vaultHost = new URL(vaultUrl).hostname;
  if (vaultHost !== resourceHost && !vaultHost.endsWith(`.${resourceHost}`)) {
    throw new KeywayError('permission_denied', `${what}: the vault asked for a token for ${resourceHost}, which is not the vault's domain (${vaultHost}); set verify_challenge_resource = false only for a trusted vault behind a custom domain`);
  }
}
