// What `keyway get` does once it has a context: the exact bytes of one secret to stdout or a file.
// Its own module, free of the command tree, so src/cli/lean-get.ts runs it without commander.
import type { Context } from '../daemon/context.js';
import { interruptSignal } from './interrupt.js';
import { writeAll, writeSecretFile } from './io.js';

export async function printSecret(ctx: Context, target: string, out: string | undefined): Promise<void> {
  const r = await ctx.broker.resolve(target, { identity: { frontend: 'cli', consumer: `pid:${process.pid}` }, signal: interruptSignal() });
  try {
    if (out !== undefined) writeSecretFile(out, r.value);
    else writeAll(1, r.value.expose());
  } finally {
    r.value.zero();
  }
}
