// Built-in provider types. Add a type here and it works in `[providers.NAME] type = "..."` and as
// `ref+<type>://` with defaults.
import type { ProviderFactory } from './factory.js';
import { localFactory } from './local/index.js';
import { vaultFactory } from './vault/index.js';
import { awsSmFactory } from './aws-sm/index.js';
import { awsSsmFactory } from './aws-ssm/index.js';
import { gcpSmFactory } from './gcp-sm/index.js';
import { azureKvFactory } from './azure-kv/index.js';
import { passFactory } from './pass/index.js';
import { systemdCredsFactory } from './systemd-creds/index.js';

export const BUILTIN_PROVIDERS: readonly ProviderFactory<never>[] = [
  localFactory as ProviderFactory<never>,
  vaultFactory as ProviderFactory<never>,
  awsSmFactory as ProviderFactory<never>,
  awsSsmFactory as ProviderFactory<never>,
  gcpSmFactory as ProviderFactory<never>,
  azureKvFactory as ProviderFactory<never>,
  passFactory as ProviderFactory<never>,
  systemdCredsFactory as ProviderFactory<never>,
];
