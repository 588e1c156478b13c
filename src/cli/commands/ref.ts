// `keyway ref check REF`: parse and explain a reference without fetching it.
import type { Command } from 'commander';
import { formatPointer, formatReference, parseReference } from '../../core/reference.js';
import { NAMED_SECRET_PROVIDER } from '../../broker/broker.js';
import { checkLocalReference } from '../../broker/local-ref.js';
import { withContext } from '../context.js';
import { interruptSignal } from '../interrupt.js';

export function registerRef(program: Command): void {
  const ref = program.command('ref').description('work with references');
  ref
    .command('check')
    .description('parse and explain a reference without fetching it (exit 0 if usable)')
    .argument('<ref>', 'ref+provider://path[?options][#fragment]')
    .option('--format <fmt>', 'text or json', 'text')
    .action(async (text: string, opts: { format: string }, cmd: Command) => {
      const parsed = parseReference(text);
      await withContext(cmd, async (ctx) => {
        // Resolves names and checks options against the provider, without any lookup.
        const target = ctx.broker.target(text);
        const provider = ctx.registry.get(target.ref.provider);
        await checkLocalReference(provider, target.ref, interruptSignal());
        const info = {
          canonical: formatReference(parsed),
          provider: parsed.provider,
          providerType: parsed.provider === NAMED_SECRET_PROVIDER ? 'named secret' : provider.type,
          path: parsed.path,
          options: parsed.query,
          pointer: parsed.pointer ? formatPointer(parsed.pointer) : null,
          ...(target.record ? { secret: target.record.name, backedBy: target.record.ref ?? 'local' } : {}),
        };
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(info, null, 2) + '\n');
          return;
        }
        const lines = [
          `reference: ${info.canonical}`,
          `provider:  ${info.provider} (${info.providerType})`,
          `path:      ${info.path}`,
          ...Object.entries(info.options).map(([k, v]) => `option:    ${k}=${v}`),
          ...(info.pointer ? [`selects:   ${info.pointer}`] : []),
          ...(target.record ? [`secret:    ${target.record.name} -> ${target.record.ref ?? 'local encrypted value'}`] : []),
          'status:    ok (not fetched)',
        ];
        process.stdout.write(lines.join('\n') + '\n');
      });
    });
}
