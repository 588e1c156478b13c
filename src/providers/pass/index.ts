// `pass`: the standard unix password manager (password-store + gpg) as a provider.
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { ProviderFactory } from '../factory.js';
import { PassProvider } from './provider.js';

export { PassProvider, type PassSettings } from './provider.js';

const absPath = z.string().refine((s) => isAbsolute(s), { message: 'expected an absolute path' });

export const passConfigSchema = z.strictObject({
  /** Default: PASSWORD_STORE_DIR, else $HOME/.password-store. */
  store_dir: absPath.optional(),
  /** Default: GNUPGHOME, else gpg's own default ($HOME/.gnupg). */
  gnupg_home: absPath.optional(),
  /** The pass executable: a name looked up in `path`, or an absolute path. */
  binary: z.string().min(1).default('pass'),
  /** PATH for pass and the tools it runs (gpg, base64, git). */
  path: z.string().min(1).default('/usr/local/bin:/usr/bin:/bin'),
  /** Kill pass (and its process group) after this long. */
  command_timeout_ms: z.number().int().positive().default(30_000),
});

export type PassConfig = z.infer<typeof passConfigSchema>;

export const passFactory: ProviderFactory<PassConfig> = {
  type: 'pass',
  description: 'password-store entries decrypted by the pass tool with gpg',
  configSchema: passConfigSchema,
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
};
