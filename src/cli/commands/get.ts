// `keyway get (NAME | REF) [--out FILE]`: the exact bytes, nothing added.
import type { Command } from 'commander';
import { interruptSignal, withContext } from '../context.js';
import { writeAll, writeSecretFile } from '../io.js';

export function registerGet(program: Command): void {
  program
    .command('get')
    .description('print the exact bytes of a named secret or reference')
    .argument('<target>', 'secret NAME, or a reference ref+provider://path...')
    .option('--out <file>', 'write to FILE (mode 0600) instead of stdout')
    .action(async (target: string, opts: { out?: string }, cmd: Command) => {
      await withContext(cmd, async (ctx) => {
        const r = await ctx.broker.resolve(target, { identity: { frontend: 'cli', consumer: `pid:${process.pid}` }, signal: interruptSignal() });
        try {
          if (opts.out !== undefined) writeSecretFile(opts.out, r.value);
          else writeAll(1, r.value.expose());
        } finally {
          r.value.zero();
        }
      });
    });
}
