// Built-in provider types. Add a type here and it works in `[providers.NAME] type = "..."` and as
// `ref+<type>://` with defaults.
import type { ProviderFactory } from './factory.js';
import { localFactory } from './local/index.js';

export const BUILTIN_PROVIDERS: readonly ProviderFactory<never>[] = [localFactory as ProviderFactory<never>];
