// The code behind provider instances, imported by an instance on its first operation
// (core/lazy-provider.ts, plugins/provider.ts): every built-in implementation and the plugin host.
// One module rather than one per type: a process that uses any loads them all at once, and the lean
// `get` build (scripts/postbuild.mjs) then splits into its own file, this module's chunk and one
// chunk the two share, instead of a chunk per combination of types.
export { AwsSmProvider } from './aws-sm/provider.js';
export { AwsSsmProvider } from './aws-ssm/provider.js';
export { AzureKvProvider } from './azure-kv/provider.js';
export { GcpSmProvider } from './gcp-sm/provider.js';
export { PassProvider } from './pass/provider.js';
export { SystemdCredsProvider } from './systemd-creds/provider.js';
export { VaultProvider } from './vault/provider.js';
export { PluginHost } from '../plugins/host/host.js';
