// `pass`: the standard unix password manager (password-store + gpg) as a provider.
import { join } from 'node:path';
import { defineProvider } from '../factory.js';
import { absolutePath, toolOptions, z } from '../kit/options.js';
import { PassProvider } from './provider.js';

export { PassProvider, type PassSettings } from './provider.js';

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
  create(name, config, deps) {
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
  },
});
