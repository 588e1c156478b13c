// Built-in provider types. Add a type here and it works in `[providers.NAME] type = "..."` and as
// `ref+<type>://` with defaults. Importing this builds no option schema (see defineProvider).
import type { ProviderType } from './factory.js';
import { localFactory } from './local/index.js';
import { vaultFactory } from './vault/index.js';
import { awsSmFactory } from './aws-sm/index.js';
import { awsSsmFactory } from './aws-ssm/index.js';
import { gcpSmFactory } from './gcp-sm/index.js';
import { azureKvFactory } from './azure-kv/index.js';
import { passFactory } from './pass/index.js';
import { systemdCredsFactory } from './systemd-creds/index.js';

export const BUILTIN_PROVIDERS: readonly ProviderType[] = [localFactory, vaultFactory, awsSmFactory, awsSsmFactory, gcpSmFactory, azureKvFactory, passFactory, systemdCredsFactory];
