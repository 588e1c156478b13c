// `pass`: the standard unix password manager (password-store + gpg) as a provider.
// This file declares the type (options, query keys, operations); ./provider.ts, its implementation,
// is imported on an instance's first operation (core/lazy-provider.ts).
import { join } from 'node:path';
import { defineProvider } from '../factory.js';
import { absolutePath, toolOptions, z } from '../kit/options.js';

export const passFactory = defineProvider({
  type: 'pass',
  description: 'password-store entries decrypted by the pass tool with gpg',
  options: () =>
    z.strictObject({
      /** Default: PASSWORD_STORE_DIR, else $HOME/.password-store. */
      store_dir: absolutePath().optional(),
      /** Default: GNUPGHOME, else gpg's own default ($HOME/.gnupg). */
      gnupg_home: absolutePath().optional(),
      ...toolOptions('pass'),
    }),
  usableWithoutConfig: true,
  optionKeys: ['line'],
  ops: ['version', 'store', 'delete', 'list'],
  async load() {
    const { PassProvider } = await import('../implementations.js');
    return (name, config, deps) => {
      const home = deps.env.HOME;
      const storeDir = config.store_dir ?? deps.env.PASSWORD_STORE_DIR ?? (home ? join(home, '.password-store') : '');
      const gnupgHome = config.gnupg_home ?? deps.env.GNUPGHOME;
      return new PassProvider(name, {
        storeDir,
        binary: config.binary,
        path: config.path,
        timeoutMs: config.command_timeout_ms,
        ...(gnupgHome ? { gnupgHome } : {}),
        ...(home ? { home } : {}),
      });
    };
  },
});
