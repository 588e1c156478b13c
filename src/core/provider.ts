// The Provider interface: one backend (built-in or plugin) behind a name. Providers see a path and
// validated options; fragments, caching, auditing and delivery are the broker's and delivery's job.
import type { KeywayError } from './errors.js';
import type { SecretValue } from './secret-value.js';

/** Who is asking, as far as the frontend knows. Handed to providers that authenticate as the workload. */
export interface WorkloadIdentity {
  readonly frontend: string; // 'cli' | 'run' | 'docker' | 'swarm' | 'podman' | 'csi' | 'api' ...
  readonly consumer?: string; // container id, pod uid, pid ...
  readonly pod?: { readonly name?: string; readonly namespace?: string; readonly uid?: string; readonly serviceAccount?: string };
  /** Service account tokens by audience (CSI `serviceAccount.tokens`). Secret: never logged. */
  readonly tokens?: ReadonlyMap<string, { readonly token: SecretValue; readonly expiresAt?: string }>;
  /**
   * Provider parameters the workload asked for (CSI `providerParams`, e.g. a Vault role). Chosen by
   * whoever controls the workload, so untrusted: a provider may only use them to narrow what it does.
   */
  readonly params?: Readonly<Record<string, string>>;
}

export interface ProviderRequest {
  readonly path: string;
  /** Query options of the reference, already checked against `optionKeys`. */
  readonly options: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly identity?: WorkloadIdentity;
}

export interface StoreRequest {
  readonly path: string;
  readonly value: SecretValue;
  readonly options: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

export interface ListRequest {
  readonly prefix?: string;
  readonly signal: AbortSignal;
}

export interface Provider {
  /** Provider type (`local`, `vault`, a plugin's name ...). */
  readonly type: string;
  /** Instance name as used in references. */
  readonly name: string;
  /** Query keys this provider accepts in references; anything else is refused before lookup. */
  readonly optionKeys: readonly string[];

  lookup(req: ProviderRequest): Promise<SecretValue>;
  /**
   * Many lookups in as few backend calls as the backend allows (AWS BatchGetSecretValue). Results
   * come back in request order, each the value or the error for that request; the call itself
   * rejects only when the whole batch failed the same way (cancelled, unreachable).
   */
  lookupMany?(reqs: readonly ProviderRequest[], signal: AbortSignal): Promise<(SecretValue | KeywayError)[]>;
  /**
   * Cheap change detection: an opaque token that changes when the value changes (a backend version
   * id, an ETag). Providers without a cheap way leave it out and the broker compares content.
   */
  version?(req: ProviderRequest): Promise<string>;
  store?(req: StoreRequest): Promise<void>;
  delete?(req: ProviderRequest): Promise<void>;
  list?(req: ListRequest): Promise<string[]>;
  /** Releases connections, child processes and timers. Idempotent. */
  close?(): Promise<void>;
}

/**
 * How messages and logs name a provider instance: its type alone when the instance has the type's
 * name ("aws-sm", not "aws-sm aws-sm"), else `TYPE provider "NAME"`.
 */
export function providerLabel(type: string, name: string): string {
  return name === type ? type : `${type} provider "${name}"`;
}
