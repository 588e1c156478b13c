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
import type { ConfiguredProvider, ProviderDeps, ProviderType } from '../providers/factory.js';

export function configuredProviders(config: Config, factories: readonly ProviderType[], deps: ProviderDeps, where: string): ProviderSource {
  const byType = new Map(factories.map((f) => [f.type, f]));
  const entries = new Map<string, ConfiguredProvider & { ok: true }>();
  for (const [name, raw] of Object.entries(config.providers)) {
    if (name === NAMED_SECRET_PROVIDER) throw new KeywayError('invalid_argument', `config ${where}: providers.${name}: "${name}" is reserved for ref+secret://NAME`);
    const factory = byType.get(raw.type);
    if (!factory) throw new KeywayError('invalid_argument', `config ${where}: providers.${name}.type: unknown provider type "${raw.type}" (known: ${[...byType.keys()].join(', ')})`);
    const { type: _type, ...rest } = raw;
    // Broker policy keys belong to the broker; the provider sees only its own options.
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) if (!(POLICY_KEYS as readonly string[]).includes(k)) options[k] = v;
    const configured = factory.configure(options);
    if (!configured.ok) throw new KeywayError('invalid_argument', `config ${formatZodIssues(where, configured.error, ['providers', name])}`);
    entries.set(name, configured);
  }
  // The [local] table configures the default `local` instance unless [providers.local] exists.
  if (!entries.has('local') && config.local.key_file) {
    const local = byType.get('local');
    const configured = local?.configure({ key_file: config.local.key_file });
    if (configured && !configured.ok) throw new KeywayError('invalid_argument', `config ${formatZodIssues(where, configured.error, ['local'])}`);
    if (configured) entries.set('local', configured);
  }
  const defaults = (name: string): ProviderType | undefined => {
    const f = byType.get(name);
    return f?.usableWithoutConfig ? f : undefined;
  };
  return {
    has: (name) => entries.has(name) || defaults(name) !== undefined,
    names: () => [...new Set([...entries.keys(), ...factories.filter((f) => f.usableWithoutConfig).map((f) => f.type)])],
    get(name): Provider | undefined {
      const e = entries.get(name);
      if (e) return e.create(name, deps);
      const f = defaults(name);
      if (!f) return undefined;
      const configured = f.configure({});
      if (!configured.ok) throw new KeywayError('failed_precondition', `provider "${name}" needs configuration: ${formatZodIssues(`[providers.${name}]`, configured.error)}`);
      return configured.create(name, deps);
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
