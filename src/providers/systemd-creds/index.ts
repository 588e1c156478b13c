// `systemd-creds`: systemd's encrypted credentials (host key and/or TPM2) as a provider.
// This file declares the type (options, query keys, operations); ./provider.ts, its implementation,
// is imported on an instance's first operation (core/lazy-provider.ts).
import { defineProvider } from '../factory.js';
import { absolutePath, toolOptions, z } from '../kit/options.js';

/** Where systemd itself looks for encrypted credentials (LoadCredentialEncrypted= search path). */
export const DEFAULT_CREDENTIAL_DIRS = ['/etc/credstore.encrypted', '/run/credstore.encrypted', '/usr/local/lib/credstore.encrypted', '/usr/lib/credstore.encrypted'];

export const systemdCredsFactory = defineProvider({
  type: 'systemd-creds',
  description: 'systemd encrypted credentials (host key / TPM2) decrypted by systemd-creds',
  options: () =>
    z.strictObject({
      /** Directory holding NAME.cred files; searched before `dirs`. */
      dir: absolutePath().optional(),
      /** Directories searched in order (default: systemd's credstore.encrypted search path). */
      dirs: z.array(absolutePath()).optional(),
      /** Host key file instead of /var/lib/systemd/credential.secret (SYSTEMD_CREDENTIAL_SECRET). */
      host_key_file: absolutePath().optional(),
      /** Key for `store`: host, tpm2, host+tpm2, tpm2-absent, auto. */
      with_key: z.enum(['host', 'tpm2', 'host+tpm2', 'tpm2-absent', 'auto']).default('auto'),
      /** Accept absolute paths outside the directories in references. */
      allow_any_path: z.boolean().default(false),
      ...toolOptions('systemd-creds'),
    }),
  usableWithoutConfig: true,
  optionKeys: ['name'],
  ops: ['version', 'store', 'delete', 'list'],
  async load() {
    const { SystemdCredsProvider } = await import('../implementations.js');
    return (name, config) => {
      const dirs = [...(config.dir ? [config.dir] : []), ...(config.dirs ?? (config.dir ? [] : DEFAULT_CREDENTIAL_DIRS))];
      return new SystemdCredsProvider(name, {
        dirs,
        withKey: config.with_key,
        allowAnyPath: config.allow_any_path,
        binary: config.binary,
        path: config.path,
        timeoutMs: config.command_timeout_ms,
        ...(config.host_key_file ? { hostKeyFile: config.host_key_file } : {}),
      });
    };
  },
});
