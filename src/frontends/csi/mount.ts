// Mount: validate everything, fetch every object through the broker, and answer with the files and
// one version per object. Nothing is written anywhere: the driver writes the returned files itself,
// so a refused request leaves no trace and a retried one gives the same answer (idempotent).
import { createHmac } from 'node:crypto';
import { KeywayError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { Resolver } from '../../broker/types.js';
import { encodeMountResponse, type MountRequest, type MountResponse } from './proto.js';
import { disposeIdentity, parseMountRequest } from './request.js';
import { checkAccess, type AccessPolicy } from './access.js';
import { MAX_OBJECTS } from './objects.js';

/** The driver's default MaxCallRecvMsgSize. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Objects one Mount may name (`csi.max_objects`); never above the parser's own ceiling. */
export const DEFAULT_MAX_OBJECTS = MAX_OBJECTS;
/** Objects fetched at once, so one big SecretProviderClass does not flood a backend. */
const CONCURRENCY = 16;

export interface MountDeps {
  readonly resolver: Resolver;
  /** The per-installation HMAC key for versions. */
  readonly versionKey: () => Buffer;
  readonly maxResponseBytes?: number;
  readonly maxObjects?: number;
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

function tooLarge(objects: number, size: string, limit: number): KeywayError {
  return new KeywayError(
    'too_large',
    `the response for ${objects} objects is ${size} bytes, over the ${limit}-byte gRPC message limit of the driver (csi.max_response_bytes); split the objects over several volumes`,
  );
}

export function objectVersion(key: Buffer, content: Buffer): string {
  return createHmac('sha256', key).update(content).digest('hex');
}

/**
 * What one file adds to the encoded MountResponse, a little over the real figure: the File
 * (path, mode, contents) and its ObjectVersion (id, 64 hex digits), each with tags and lengths.
 */
export function responseBytes(objectName: string, contentLength: number): number {
  const name = Buffer.byteLength(objectName);
  return contentLength + 2 * name + 64 + 48;
}

export async function handleMount(req: MountRequest, deps: MountDeps, signal: AbortSignal): Promise<MountOutcome> {
  const parsed = parseMountRequest(req);
  const { objects, defaultMode, identity } = parsed;
  const limit = deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const maxObjects = deps.maxObjects ?? DEFAULT_MAX_OBJECTS;
  let values: SecretValue[] = [];
  try {
    if (objects.length > maxObjects) {
      throw new KeywayError('too_large', `parameter "objects" names ${objects.length} objects, over csi.max_objects (${maxObjects}); split them over several volumes`);
    }
    checkAccess(deps.access, identity.pod?.namespace, objects);
    // The response limit is enforced while fetching: values are kept only while their running
    // total fits, so a hostile list costs at most the limit plus the values in flight.
    let total = 0;
    const resolved = await deps.resolver.resolveMany(
      objects.map((o) => o.target),
      { identity, signal },
      {
        concurrency: CONCURRENCY,
        what: 'mount',
        onValue: (r, i) => {
          total += responseBytes(objects[i]?.objectName ?? '', r.value.length);
          if (total > limit) throw tooLarge(objects.length, `at least ${total}`, limit);
        },
        // Report the object that failed first, and which object it was.
        describeFailure: (err, i) => {
          const where = `object ${JSON.stringify(objects[i]?.objectName ?? '')}`;
          return err.message.startsWith(where) ? err : new KeywayError(err.code, `${where}: ${err.message}`, { cause: err });
        },
      },
    );
    values = resolved.map((r) => r.value);

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
    if (encoded.length > limit) {
      encoded.fill(0);
      throw tooLarge(objects.length, String(encoded.length), limit);
    }
    return { encoded, objects: objects.length, pod: { ...identity.pod } };
  } finally {
    for (const v of values) v.zero();
    disposeIdentity(identity);
  }
}
