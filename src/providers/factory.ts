// How a provider type is described to the composition root: a strict option schema for
// `[providers.NAME]` and a constructor. Built-in types are listed in ./builtin.ts.
import type { z } from 'zod';
import type { Provider } from '../core/provider.js';
import type { Logger } from '../core/logger.js';
import type { Db } from '../store/db.js';

export interface ProviderDeps {
  readonly logger: Logger;
  /** The store, for providers that keep state in it (local). */
  readonly db: Db;
  readonly stateDir: string;
  /** Snapshot of the environment taken by the composition root (VAULT_ADDR, AWS_* ...). */
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface ProviderFactory<C = unknown> {
  readonly type: string;
  /** One line for `keyway doctor` and docs. */
  readonly description: string;
  /** Options of `[providers.NAME]` without `type`; must be strict (unknown keys are errors). */
  readonly configSchema: z.ZodType<C>;
  /**
   * Whether `ref+<type>://` works with no `[providers.*]` entry (defaults from env or none needed).
   * Such a default instance is created on first use with `configSchema.parse({})`.
   */
  readonly usableWithoutConfig: boolean;
  create(name: string, config: C, deps: ProviderDeps): Provider;
}
