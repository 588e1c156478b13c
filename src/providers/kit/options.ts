// Pieces of `[providers.NAME]` option schemas shared by the provider types. Functions, not
// constants: a schema is built when its type is first configured, not when the module loads.
import { isAbsolute } from 'node:path';
import type { z as zod } from 'zod';
import { recorder } from '../../core/deferred-schema.js';

/**
 * `z` for option schemas: a recorder (src/core/deferred-schema.ts), so defineProvider checks valid
 * options, `{}` defaults included, without loading zod; zod decides and words everything else.
 */
export const z = recorder<typeof zod>();

export const absolutePath = () => z.string().refine((s) => isAbsolute(s), { message: 'expected an absolute path' });

export const httpUrl = () => z.url({ protocol: /^https?$/ });

/** Per-request timeout of an HTTP backend, in milliseconds. */
export const requestTimeoutMs = () => z.number().int().min(100).max(300_000).default(10_000);

/** The executable, its PATH and its deadline, for providers that run a helper tool. */
export const toolOptions = (binary: string) => ({
  /** The executable: a name looked up in `path`, or an absolute path. */
  binary: z.string().min(1).default(binary),
  /** PATH for the tool and the tools it runs. */
  path: z.string().min(1).default('/usr/local/bin:/usr/bin:/bin'),
  /** Kill the tool (and its process group) after this long. */
  command_timeout_ms: z.number().int().positive().default(30_000),
});
