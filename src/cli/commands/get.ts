// `keyway get (NAME | REF) [--out FILE]`: the exact bytes, nothing added. Plain invocations skip the
// command tree and run printSecret from src/cli/lean-get.ts.
import type { Command } from 'commander';
import { withContext } from '../context.js';
import { printSecret } from '../print-secret.js';

export function registerGet(program: Command): void {
  program
    .command('get')
    .description('print the exact bytes of a named secret or reference')
    .argument('<target>', 'secret NAME, or a reference ref+provider://path...')
    .option('--out <file>', 'write to FILE (mode 0600) instead of stdout')
    .action((target: string, opts: { out?: string }, cmd: Command) => withContext(cmd, (ctx) => printSecret(ctx, target, opts.out)));
}
