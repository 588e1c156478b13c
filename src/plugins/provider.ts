// A registered plugin is a provider: `ref+NAME://path?opts` goes to the plugin's lookup. This is a
// provider source for the broker's registry (structurally its ProviderSource), built by the
// composition root from the catalog and host dependencies.
import type { Provider } from '../core/provider.js';
import { lazyProvider, OPTIONAL_OPS, type OptionalOp } from '../core/lazy-provider.js';
import type { CatalogItem, PluginCatalog } from './catalog.js';
import type { PluginHost } from './host/host.js';
import type { HostDeps } from './host/launcher.js';

/** A started host as a provider, with exactly the optional ops the plugin declared. */
function hostProvider(host: PluginHost, ops: readonly OptionalOp[]): Provider {
  const has = (op: OptionalOp): boolean => ops.includes(op);
  return {
    type: 'plugin',
    name: host.entry.name,
    optionKeys: host.entry.optionKeys,
    async lookup(req) {
      return (await host.lookup(req.path, req.options, req.signal)).value;
    },
    close: () => host.close(),
    ...(has('version') ? { version: (req) => host.version(req.path, req.options, req.signal) } : {}),
    ...(has('store') ? { store: (req) => host.store(req.path, req.value, req.options, req.signal) } : {}),
    ...(has('delete') ? { delete: (req) => host.delete(req.path, req.options, req.signal) } : {}),
    ...(has('list') ? { list: (req) => host.list(req.prefix, req.signal) } : {}),
  } satisfies Provider;
}

/**
 * The provider for a catalog entry. The host (launcher, sandbox, protocol client) is imported on
 * the first operation, as built-in implementations are (core/lazy-provider.ts): a process that only
 * reads the catalog (a get of a local secret, an idle daemon) does not load it. Optional ops exist
 * only when the plugin said so in `describe` at registration.
 */
export function pluginProvider(item: CatalogItem, deps: HostDeps): Provider {
  const ops = OPTIONAL_OPS.filter((op) => op !== 'lookupMany' && item.ops?.includes(op) === true);
  return lazyProvider({ type: 'plugin', name: item.entry.name, optionKeys: item.entry.optionKeys, ops }, async () => {
    const { PluginHost } = await import('../providers/implementations.js');
    return hostProvider(new PluginHost(item.entry, deps), ops);
  });
}

export interface PluginProviderSource {
  get(name: string): Provider | undefined;
  has(name: string): boolean;
  names(): string[];
}

/** Providers for every catalog entry, created on first use. */
export function pluginProviders(catalog: PluginCatalog, deps: HostDeps): PluginProviderSource {
  return {
    has: (name) => catalog.has(name),
    names: () => catalog.names(),
    get(name) {
      const item = catalog.get(name);
      return item ? pluginProvider(item, deps) : undefined;
    },
  };
}
