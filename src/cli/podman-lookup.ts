// Lean entry for the lookup command of Podman's shell driver, used when no daemon answers the fast
// client. Podman pays for this process on every `podman run --secret`, so it skips the command tree
// (commander and every command's modules) and accepts only the flags `keyway podman driver-opts`
// bakes in. `keyway podman lookup` does the same thing through the full CLI.
// First in source order, as in src/cli.ts: the Node version check and the compile cache. In the
// build the few small chunks this entry shares with the CLI load before it (none needs a newer Node).
import '../runtime.js';
import { excludeMemoryFromCoreDumps } from '../core/core-dumps.js';
import { KeywayError } from '../core/errors.js';
import type { GlobalOptions } from '../daemon/context.js';
import { GLOBAL_VALUE_OPTIONS } from './argv.js';
import { reportError } from './exit.js';
import { writeValue } from './io.js';

/** The three path options `driver-opts` bakes in, spelled as the command tree declares them. */
function parseFlags(argv: readonly string[]): GlobalOptions {
  const flags: { -readonly [K in 'config' | 'stateDir' | 'runtimeDir']?: GlobalOptions[K] } = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [k = '', v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new KeywayError('invalid_argument', `podman lookup: ${JSON.stringify(k)} needs a value`);
    const key = Object.hasOwn(GLOBAL_VALUE_OPTIONS, k) ? GLOBAL_VALUE_OPTIONS[k as keyof typeof GLOBAL_VALUE_OPTIONS] : undefined;
    if (key === 'config' || key === 'stateDir' || key === 'runtimeDir') flags[key] = v;
    else throw new KeywayError('invalid_argument', `podman lookup: unknown flag ${JSON.stringify(k)} (expected --config, --state-dir, --runtime-dir)`);
  }
  return flags;
}

async function main(): Promise<number> {
  excludeMemoryFromCoreDumps();
  try {
    const flags = parseFlags(process.argv.slice(2));
    const [{ openContext }, { podmanDriverFrom }, { LOOKUP_TIMEOUT_MS }] = await Promise.all([
      import('../daemon/context.js'),
      import('../frontends/podman/wire.js'),
      import('../frontends/podman/lookup-server.js'),
    ]);
    const ctx = openContext(flags);
    try {
      const ac = new AbortController();
      process.once('SIGTERM', () => ac.abort(new KeywayError('cancelled', 'podman lookup was interrupted')));
      writeValue(1, await podmanDriverFrom(ctx).lookup(process.env.SECRET_ID, AbortSignal.any([ac.signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS)])));
    } finally {
      await ctx.close();
    }
    return 0;
  } catch (e) {
    return reportError(e);
  }
}

process.exitCode = await main();
