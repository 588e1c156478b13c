// What frontends and delivery see of the broker: NAME or REF in, bytes plus delivery hints out.
import type { AllOrNothingOptions } from '../core/all-or-nothing.js';
import type { SecretValue } from '../core/secret-value.js';
import type { WorkloadIdentity } from '../core/provider.js';

export interface ResolveContext {
  readonly identity: WorkloadIdentity;
  readonly signal: AbortSignal;
  /** Skip any cache and ask the provider. */
  readonly refresh?: boolean;
}

export interface Resolved {
  /** Owned by the caller: zero it when done. */
  readonly value: SecretValue;
  /** Named secret this came from, if any. */
  readonly name?: string;
  /** Log-safe description of the reference (no query values, no fragment). */
  readonly source: string;
  /** Provider instance name. */
  readonly provider: string;
  /** Opaque change token when the provider has a cheap one. */
  readonly version?: string;
  /** Delivery defaults of a named secret. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** allOrNothing's options but its signal (the context's) and its wipe (the broker zeroes values). */
export type ResolveManyOptions = Omit<AllOrNothingOptions<Resolved>, 'signal' | 'wipe'>;

export interface Resolver {
  /** `target` is a named secret (NAME), or a reference (`ref+...`). */
  resolve(target: string, ctx: ResolveContext): Promise<Resolved>;
  /** Cheap change token for rotation: the provider's version op if it has one, else a content HMAC. */
  version(target: string, ctx: ResolveContext): Promise<string>;
  /**
   * Every target, all or nothing: results in input order, or an error after every value already
   * resolved has been zeroed. Bounded concurrency; batched upstream where a provider can.
   */
  resolveMany(targets: readonly string[], ctx: ResolveContext, opts?: ResolveManyOptions): Promise<Resolved[]>;
}
