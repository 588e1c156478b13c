// `keyway audit [--since] [--name] [--format json]`: reads the audit log (never values).
import type { Command } from 'commander';
import { KeywayError } from '../../core/errors.js';
import { parseDuration } from '../../broker/policy.js';
import { withContext } from '../context.js';

function sinceToIso(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const d = new Date(text);
    if (Number.isNaN(d.getTime())) throw new KeywayError('invalid_argument', `--since: ${JSON.stringify(text)} is not a date`);
    return d.toISOString();
  }
  return new Date(Date.now() - parseDuration(text, '--since')).toISOString();
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('show the audit log: who resolved, stored or deleted what, when, with what outcome')
    .option('--since <when>', 'a duration back from now (30m, 24h) or an RFC 3339 time')
    .option('--name <subject>', 'only entries about this secret name or reference')
    .option('--limit <n>', 'at most N entries (newest)', '1000')
    .option('--format <fmt>', 'table or json', 'table')
    .action(async (opts: { since?: string; name?: string; limit: string; format: string }, cmd: Command) => {
      if (opts.format !== 'table' && opts.format !== 'json') throw new KeywayError('invalid_argument', `--format: expected table or json`);
      if (!/^[1-9][0-9]{0,6}$/.test(opts.limit)) throw new KeywayError('invalid_argument', '--limit: expected a positive integer');
      await withContext(cmd, async (ctx) => {
        const rows = ctx.audit.query({ ...(opts.since ? { since: sinceToIso(opts.since) } : {}), ...(opts.name ? { subject: opts.name } : {}), limit: Number(opts.limit) });
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
          return;
        }
        for (const r of rows) {
          const who = [r.frontend, r.consumer].filter(Boolean).join(':');
          process.stdout.write(`${r.at}  ${r.action.padEnd(8)} ${r.outcome.padEnd(6)} ${(r.code ?? '').padEnd(12)} ${(r.cache ?? '').padEnd(5)} ${who}  ${r.subject ?? ''}${r.provider ? ` (${r.provider})` : ''}\n`);
        }
      });
    });
}
