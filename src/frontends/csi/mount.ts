// Mount: validate everything, fetch every object through the broker, and answer with the files and
// one version per object. Nothing is written anywhere: the driver writes the returned files itself,
// so a refused request leaves no trace and a retried one gives the same answer (idempotent).
import { createHmac } from 'node:crypto';
import { KeywayError, throwIfAborted, toKeywayError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { Resolver } from '../../broker/types.js';
import { encodeMountResponse, type MountRequest, type MountResponse } from './proto.js';
import { disposeIdentity, parseMountRequest } from './request.js';
import { checkAccess, type AccessPolicy } from './access.js';

/** The driver's default MaxCallRecvMsgSize. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Objects fetched at once, so one big SecretProviderClass does not flood a backend. */
const CONCURRENCY = 16;

export interface MountDeps {
  readonly resolver: Resolver;
  /** The per-installation HMAC key for versions. */
  readonly versionKey: () => Buffer;
  readonly maxResponseBytes?: number;
  /** Which namespaces may mount which targets; undefined lets every namespace mount anything. */
  readonly access?: AccessPolicy;
}

export interface MountOutcome {
  /** The encoded MountResponse; holds secret bytes, so the caller wipes it once sent. */
  readonly encoded: Buffer;
  readonly objects: number;
  /** Log-safe facts about the caller. */
  readonly pod: { readonly namespace?: string; readonly name?: string; readonly uid?: string };
}

export function objectVersion(key: Buffer, content: Buffer): string {
  return createHmac('sha256', key).update(content).digest('hex');
}

export async function handleMount(req: MountRequest, deps: MountDeps, signal: AbortSignal): Promise<MountOutcome> {
  const parsed = parseMountRequest(req);
  const { objects, defaultMode, identity } = parsed;
  const values: (SecretValue | undefined)[] = new Array<SecretValue | undefined>(objects.length);
  // One failure stops the rest: the driver fails the whole mount anyway.
  const stop = new AbortController();
  const inner = AbortSignal.any([signal, stop.signal]);
  try {
    checkAccess(deps.access, identity.pod?.namespace, objects);
    let next = 0;
    let failure: KeywayError | undefined;
    const worker = async (): Promise<void> => {
      while (failure === undefined && next < objects.length) {
        const i = next++;
        const o = objects[i];
        if (!o) break;
        try {
          throwIfAborted(inner, 'mount');
          const r = await deps.resolver.resolve(o.target, { identity, signal: inner });
          values[i] = r.value;
        } catch (e) {
          if (failure === undefined) {
            // Report the object that failed first, and which object it was.
            const where = `object ${JSON.stringify(o.objectName)}`;
            const err = toKeywayError(e, where);
            failure = err.message.startsWith(where) ? err : new KeywayError(err.code, `${where}: ${err.message}`, { cause: err });
            stop.abort(failure);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, objects.length) }, worker));
    // The mount's own deadline or cancellation explains any backend failure it caused.
    throwIfAborted(signal, 'mount');
    if (failure) throw failure;

    const key = deps.versionKey();
    const response: MountResponse = { object_version: [], files: [], error: null };
    objects.forEach((o, i) => {
      const value = values[i];
      if (!value) throw new KeywayError('internal', `object ${JSON.stringify(o.objectName)} was not fetched`);
      const content = value.expose();
      response.files.push({ path: o.objectName, mode: o.mode ?? defaultMode, contents: content });
      response.object_version.push({ id: o.objectName, version: objectVersion(key, content) });
    });
    const encoded = encodeMountResponse(response);
    const limit = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (encoded.length > limit) {
      encoded.fill(0);
      throw new KeywayError(
        'too_large',
        `the response for ${objects.length} objects is ${encoded.length} bytes, over the ${limit}-byte gRPC message limit of the driver; split the objects over several volumes`,
      );
    }
    return { encoded, objects: objects.length, pod: { ...identity.pod } };
  } finally {
    for (const v of values) v?.zero();
    disposeIdentity(identity);
  }
}
