// How a provider type is described to the composition root: a strict option schema for
// `[providers.NAME]` and a constructor, tied together by defineProvider so the registry never needs
// the option type. Built-in types are listed in ./builtin.ts.
import type { z } from 'zod';
import { deferred, type Deferred } from '../core/deferred-schema.js';
import type { Provider } from '../core/provider.js';
import { lazyProvider, type OptionalOp } from '../core/lazy-provider.js';
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

/** Options that passed the type's schema, bound to its constructor; or why they did not. */
export type ConfiguredProvider = { readonly ok: true; create(name: string, deps: ProviderDeps): Provider } | { readonly ok: false; readonly error: z.ZodError };

/** A provider type as the registry sees it: no option type, so a list of types needs no casts. */
export interface ProviderType {
  readonly type: string;
  /** One line for `keyway doctor` and docs. */
  readonly description: string;
  /**
   * Whether `ref+<type>://` works with no `[providers.*]` entry (defaults from env or none needed).
   * Such a default instance is created on first use with `configure({})`.
   */
  readonly usableWithoutConfig: boolean;
  /** Checks `[providers.NAME]` options (without `type`) against the type's strict schema. */
  configure(options: unknown): ConfiguredProvider;
}

/** How a type builds an instance from its parsed options. */
export type CreateProvider<S extends z.ZodType> = (name: string, config: z.output<S>, deps: ProviderDeps) => Provider;

interface DefinitionBase<S extends z.ZodType> {
  readonly type: string;
  readonly description: string;
  readonly usableWithoutConfig: boolean;
  /**
   * Builds the strict option schema (unknown keys are errors); called once, on first use. Written
   * with kit/options.ts's `z`, a recorder: valid options are checked without zod (see
   * src/core/deferred-schema.ts), and zod, loaded then, decides and words the rest.
   */
  readonly options: () => S;
}

/**
 * A type whose implementation is a module of its own, imported on the instance's first operation:
 * a process pays only for the provider types it uses (a `keyway get` of a local secret loads no
 * cloud client). What the broker needs before that (query keys, which optional operations exist)
 * is declared here; core/lazy-provider.ts checks the declaration against the implementation when it loads.
 */
export interface LazyDefinition<S extends z.ZodType> extends DefinitionBase<S> {
  readonly optionKeys: readonly string[];
  readonly ops: readonly OptionalOp[];
  load(): Promise<CreateProvider<S>>;
}

/** A type built in the module that defines it (local, which every named secret needs anyway). */
export interface EagerDefinition<S extends z.ZodType> extends DefinitionBase<S> {
  readonly create: CreateProvider<S>;
}

export type ProviderDefinition<S extends z.ZodType> = LazyDefinition<S> | EagerDefinition<S>;

/** A defined type: what the registry needs, plus the typed schema and constructor for tests. */
export interface ProviderFactory<S extends z.ZodType = z.ZodType> extends ProviderType {
  /** The schema on zod, built on first access and kept. */
  readonly configSchema: S;
  /** The schema with its zod-free fast parse, as configure uses it. */
  readonly optionSchema: Deferred<S>;
  create: CreateProvider<S>;
}

export function defineProvider<S extends z.ZodType>(def: ProviderDefinition<S>): ProviderFactory<S> {
  let schema: Deferred<S> | undefined;
  const optionSchema = (): Deferred<S> => (schema ??= deferred(def.options()));
  const create: CreateProvider<S> =
    'create' in def ? def.create : (name, config, deps) => lazyProvider({ type: def.type, name, optionKeys: def.optionKeys, ops: def.ops }, async () => (await def.load())(name, config, deps));
  return {
    type: def.type,
    description: def.description,
    usableWithoutConfig: def.usableWithoutConfig,
    get configSchema() {
      return optionSchema().schema();
    },
    get optionSchema() {
      return optionSchema();
    },
    create,
    configure(options) {
      const parsed = optionSchema().safeParse(options);
      if (!parsed.success) return { ok: false, error: parsed.error };
      return { ok: true, create: (name, deps) => create(name, parsed.data, deps) };
    },
  };
}
