// Built-in provider types. Add a type here and it works in `[providers.NAME] type = "..."` and as
// `ref+<type>://` with defaults.
import type { ProviderFactory } from './factory.js';
import { localFactory } from './local/index.js';
import { passFactory } from './pass/index.js';
import { systemdCredsFactory } from './systemd-creds/index.js';
import { vaultFactory } from './vault/index.js';

export const BUILTIN_PROVIDERS: readonly ProviderFactory<never>[] = [
  localFactory as ProviderFactory<never>,
  vaultFactory as ProviderFactory<never>,
  passFactory as ProviderFactory<never>,
  systemdCredsFactory as ProviderFactory<never>,
];
