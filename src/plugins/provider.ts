// A registered plugin is a provider: `ref+NAME://path?opts` goes to the plugin's lookup. This is a
// provider source for the broker's registry (structurally its ProviderSource), built by the
// composition root from the catalog and host dependencies.
import type { Provider } from '../core/provider.js';
import type { CatalogItem, PluginCatalog } from './catalog.js';
import type { PluginHost } from './host/host.js';
import type { HostDeps } from './host/launcher.js';

export function pluginProvider(item: CatalogItem, deps: HostDeps): Provider {
  // The host (launcher, sandbox, protocol client) is imported on the first operation: a process
  // that only reads the catalog (a get of a local secret, an idle daemon) does not load it.
  let loaded: Promise<PluginHost> | undefined;
  const host = (): Promise<PluginHost> => (loaded ??= import('../providers/implementations.js').then(({ PluginHost }) => new PluginHost(item.entry, deps)));
  const ops = new Set(item.ops ?? []);
  const p: Provider = {
    type: 'plugin',
    name: item.entry.name,
    optionKeys: item.entry.optionKeys,
    async lookup(req) {
      return (await (await host()).lookup(req.path, req.options, req.signal)).value;
    },
    close: async () => (await loaded?.catch(() => undefined))?.close(),
  };
  // Optional ops exist only when the plugin said so in `describe` at registration.
  return {
    ...p,
    ...(ops.has('version') ? { version: async (req) => (await host()).version(req.path, req.options, req.signal) } : {}),
    ...(ops.has('store') ? { store: async (req) => (await host()).store(req.path, req.value, req.options, req.signal) } : {}),
    ...(ops.has('delete') ? { delete: async (req) => (await host()).delete(req.path, req.options, req.signal) } : {}),
    ...(ops.has('list') ? { list: async (req) => (await host()).list(req.prefix, req.signal) } : {}),
  } satisfies Provider;
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
