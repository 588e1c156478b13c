// Docker Swarm secret driver (docker.secretprovider/1.0): /SecretProvider.GetSecret gets the
// secret's name and labels and answers with the value, base64 in JSON. What to resolve:
//   SecretLabels["keyway.ref"]     a reference (ref+...)
//   SecretLabels["keyway.secret"]  a named secret
//   otherwise SecretName           a named secret of the same name
import { KeywayError, toKeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { validateSecretName } from '../../core/names.js';
import { parseReference } from '../../core/reference.js';
import type { Resolved } from '../../broker/types.js';

export const REF_LABEL = 'keyway.ref';
export const SECRET_LABEL = 'keyway.secret';
/** Swarm refuses secrets of 500 KiB and more, and empty ones. */
export const SWARM_MAX_SECRET_BYTES = 500 * 1024 - 1;

export interface SwarmResolver {
  resolve(target: string, ctx: { frontend: string; consumer?: string; signal: AbortSignal }): Promise<Resolved>;
}

export interface SwarmSecretRequest {
  readonly SecretName?: unknown;
  readonly SecretLabels?: unknown;
  readonly ServiceName?: unknown;
  readonly TaskID?: unknown;
}

export interface SwarmSecretTarget {
  readonly target: string;
  /** Log-safe description of where the value comes from. */
  readonly what: string;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** Chooses what to resolve for a request; throws invalid_argument naming the bad field. */
export function swarmTarget(req: SwarmSecretRequest): SwarmSecretTarget {
  const name = str(req.SecretName);
  if (name === undefined) throw new KeywayError('invalid_argument', 'SecretName is missing');
  const labels = req.SecretLabels;
  if (labels !== undefined && labels !== null && (typeof labels !== 'object' || Array.isArray(labels))) throw new KeywayError('invalid_argument', 'SecretLabels must be an object');
  const l = (labels ?? {}) as Record<string, unknown>;
  const ref = l[REF_LABEL];
  if (ref !== undefined) {
    if (typeof ref !== 'string') throw new KeywayError('invalid_argument', `label ${REF_LABEL} must be a string`);
    try {
      parseReference(ref);
    } catch (e) {
      throw new KeywayError('invalid_argument', `label ${REF_LABEL} of swarm secret ${JSON.stringify(name)}: ${toKeywayError(e).message}`);
    }
    return { target: ref, what: `label ${REF_LABEL}` };
  }
  const secret = l[SECRET_LABEL];
  if (secret !== undefined) {
    if (typeof secret !== 'string') throw new KeywayError('invalid_argument', `label ${SECRET_LABEL} must be a string`);
    return { target: validateSecretName(secret, `label ${SECRET_LABEL}`), what: `named secret ${JSON.stringify(secret)} (label ${SECRET_LABEL})` };
  }
  return { target: validateSecretName(name, 'swarm secret name'), what: `named secret ${JSON.stringify(name)}` };
}

export class SwarmSecretProvider {
  readonly #resolver: SwarmResolver;
  readonly #logger: Logger;

  constructor(resolver: SwarmResolver, logger: Logger) {
    this.#resolver = resolver;
    this.#logger = logger;
  }

  /** Returns the base64 value; the resolved bytes are zeroed before returning. */
  async getSecret(req: SwarmSecretRequest, signal: AbortSignal): Promise<{ Value: string; DoNotReuse: boolean }> {
    const { target, what } = swarmTarget(req);
    const name = String(req.SecretName);
    const task = str(req.TaskID);
    let r: Resolved;
    try {
      r = await this.#resolver.resolve(target, { frontend: 'swarm', ...(task ? { consumer: `task:${task}` } : {}), signal });
    } catch (e) {
      const err = toKeywayError(e);
      throw new KeywayError(err.code, `swarm secret ${JSON.stringify(name)} from ${what}: ${err.message}`, { cause: e });
    }
    try {
      const n = r.value.length;
      if (n === 0) throw new KeywayError('invalid_argument', `swarm secret ${JSON.stringify(name)} from ${what} is empty; Swarm needs at least 1 byte`);
      if (n > SWARM_MAX_SECRET_BYTES) throw new KeywayError('too_large', `swarm secret ${JSON.stringify(name)} from ${what} is ${n} bytes; Swarm allows less than 500 KiB`);
      const value = r.value.expose().toString('base64');
      this.#logger.info({ secret: name, task, source: r.source }, 'swarm secret delivered');
      return { Value: value, DoNotReuse: false };
    } finally {
      r.value.zero();
    }
  }
}
