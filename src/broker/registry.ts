// Provider instances by name: configured `[providers.NAME]` entries, built-in types usable with
// defaults, and late sources such as the plugin catalog. Instances are created on first use so a
// command pays only for the providers it touches.
import { KeywayError } from '../core/errors.js';
import type { Provider } from '../core/provider.js';

export interface ProviderSource {
  /** Returns the provider for `name`, creating it if needed, or undefined when this source has none. */
  get(name: string): Provider | undefined;
  /** Whether `get(name)` would succeed, without creating anything. */
  has(name: string): boolean;
  names(): string[];
}

export class ProviderRegistry {
  readonly #sources: ProviderSource[];
  readonly #live = new Map<string, Provider>();

  constructor(sources: ProviderSource[]) {
    this.#sources = sources;
  }

  has(name: string): boolean {
    return this.#live.has(name) || this.#sources.some((s) => s.has(name));
  }

  get(name: string): Provider {
    const live = this.#live.get(name);
    if (live) return live;
    for (const s of this.#sources) {
      const p = s.get(name);
      if (p) {
        this.#live.set(name, p);
        return p;
      }
    }
    throw new KeywayError('not_found', `no provider named "${name}" (configure [providers.${name}] with a type, or register a plugin of that name)`);
  }

  names(): string[] {
    return [...new Set(this.#sources.flatMap((s) => s.names()))].sort();
  }

  async closeAll(): Promise<void> {
    const live = [...this.#live.values()];
    this.#live.clear();
    await Promise.allSettled(live.map((p) => p.close?.()));
  }
}
