// Turns `[providers.*]` config and the built-in factories into a provider source for the registry.
// Each instance's options are validated against its type's strict schema, with errors naming
// `providers.NAME.KEY`.
import { KeywayError } from '../core/errors.js';
import type { Provider } from '../core/provider.js';
import type { ProviderSource } from '../broker/registry.js';
import { NAMED_SECRET_PROVIDER } from '../broker/broker.js';
import type { Config } from '../config/schema.js';
import { POLICY_KEYS, policyFrom, type ProviderPolicy } from '../broker/policy.js';
import { formatZodIssues } from '../config/load.js';
import type { ProviderDeps, ProviderFactory } from '../providers/factory.js';

export function configuredProviders(config: Config, factories: readonly ProviderFactory<never>[], deps: ProviderDeps, where: string): ProviderSource {
  const byType = new Map(factories.map((f) => [f.type, f]));
  const entries = new Map<string, { factory: ProviderFactory<never>; options: unknown }>();
  for (const [name, raw] of Object.entries(config.providers)) {
    if (name === NAMED_SECRET_PROVIDER) throw new KeywayError('invalid_argument', `config ${where}: providers.${name}: "${name}" is reserved for ref+secret://NAME`);
    const factory = byType.get(raw.type);
    if (!factory) throw new KeywayError('invalid_argument', `config ${where}: providers.${name}.type: unknown provider type "${raw.type}" (known: ${[...byType.keys()].join(', ')})`);
    const { type: _type, ...rest } = raw;
    // Broker policy keys belong to the broker; the provider sees only its own options.
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) if (!(POLICY_KEYS as readonly string[]).includes(k)) options[k] = v;
    const parsed = factory.configSchema.safeParse(options);
    if (!parsed.success) throw new KeywayError('invalid_argument', `config ${formatZodIssues(where, parsed.error, ['providers', name])}`);
    entries.set(name, { factory, options: parsed.data });
  }
  // The [local] table configures the default `local` instance unless [providers.local] exists.
  if (!entries.has('local') && config.local.key_file) {
    const local = byType.get('local');
    if (local) entries.set('local', { factory: local, options: { key_file: config.local.key_file } });
  }
  const defaults = (name: string): ProviderFactory<never> | undefined => {
    const f = byType.get(name);
    return f?.usableWithoutConfig ? f : undefined;
  };
  return {
    has: (name) => entries.has(name) || defaults(name) !== undefined,
    names: () => [...new Set([...entries.keys(), ...factories.filter((f) => f.usableWithoutConfig).map((f) => f.type)])],
    get(name): Provider | undefined {
      const e = entries.get(name);
      if (e) return e.factory.create(name, e.options as never, deps);
      const f = defaults(name);
      if (!f) return undefined;
      const parsed = f.configSchema.safeParse({});
      if (!parsed.success) throw new KeywayError('failed_precondition', `provider "${name}" needs configuration: ${formatZodIssues(`[providers.${name}]`, parsed.error)}`);
      return f.create(name, parsed.data, deps);
    },
  };
}

/** Broker policies: `[broker]` defaults, overridden per `[providers.NAME]`. */
export function providerPolicies(config: Config, base: ProviderPolicy): { defaults: ProviderPolicy; perProvider: Map<string, ProviderPolicy> } {
  const defaults = policyFrom(base, config.broker, 'broker');
  const perProvider = new Map<string, ProviderPolicy>();
  for (const [name, raw] of Object.entries(config.providers)) perProvider.set(name, policyFrom(defaults, raw, `providers.${name}`));
  return { defaults, perProvider };
}
