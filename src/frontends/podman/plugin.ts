// Serves one podman-plugin request: driver ops through the Podman driver (same records as the
// shell driver, so secrets can move between the two), the provider op through the broker.
import type { Resolver } from '../../broker/types.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { PodmanDriver } from './driver.js';
import { MAX_HEADER_BYTES, headerLine, parseRequest } from './plugin-protocol.js';

export interface PluginDeps {
  readonly driver: PodmanDriver;
  readonly resolver: Resolver;
}

export type PluginAnswer =
  /** A framed driver answer: header line, then the payload (lookup) — zero it after writing. */
  | { readonly kind: 'driver'; readonly header: Buffer; readonly payload?: SecretValue }
  /** A provider answer: the bare bytes — zero them after writing. */
  | { readonly kind: 'provider'; readonly value: SecretValue };

/** Parses and serves `input` (stdin to EOF). Throws KeywayError; the caller frames it per `kindOf`. */
export async function servePluginRequest(input: Buffer, deps: PluginDeps, signal: AbortSignal): Promise<PluginAnswer> {
  const req = parseRequest(input);
  if (req.kind === 'provider') {
    const target = req.providerOpts.ref ?? req.secretName;
    const r = await deps.resolver.resolve(target, { identity: { frontend: 'podman-plugin', consumer: `podman-secret:${req.secretName.slice(0, 253)}` }, signal });
    return { kind: 'provider', value: r.value };
  }
  switch (req.op) {
    case 'store': {
      const rec = await deps.driver.store(req.id, req.payload, signal, req.driverOpts.ref !== undefined ? { ref: req.driverOpts.ref } : {});
      return { kind: 'driver', header: headerLine({ ID: rec.id }) };
    }
    case 'lookup': {
      req.payload.zero();
      const value = await deps.driver.lookup(req.id, signal);
      return { kind: 'driver', header: headerLine({ ID: req.id, Size: value.length }), payload: value };
    }
    case 'delete': {
      req.payload.zero();
      const old = await deps.driver.delete(req.id, signal);
      return { kind: 'driver', header: headerLine({ ID: old.id }) };
    }
    case 'list':
      req.payload.zero();
      return { kind: 'driver', header: headerLine({ IDs: deps.driver.list() }) };
  }
}

/**
 * Whether a request (possibly malformed) is a provider request, which is answered on stderr only.
 * Anything that does not clearly parse as one is treated as a driver request and gets an Error header.
 */
export function isProviderRequest(input: Buffer): boolean {
  const nl = input.indexOf(0x0a);
  const end = nl < 0 ? input.length : nl;
  if (end > MAX_HEADER_BYTES) return false;
  try {
    const h = JSON.parse(input.subarray(0, end).toString('utf8')) as unknown;
    return typeof h === 'object' && h !== null && !Array.isArray(h) && 'SecretName' in h && !('Op' in h);
  } catch {
    return false;
  }
}
