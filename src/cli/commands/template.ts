// `keyway template render FILE`: the exact rendered bytes on stdout, nothing added (like `get`).
// `keyway template check FILE`: parse only and list the distinct NAMEs and REFs it uses, one per
// line; nothing is fetched.
import type { Command } from 'commander';
import { withContext } from '../context.js';
import { interruptSignal } from '../interrupt.js';
import { writeAll, writeValue } from '../io.js';

export function registerTemplate(program: Command): void {
  const template = program.command('template').description('render config files that embed secrets ({{ NAME }}, {{ REF | filter }})');
  template
    .command('render')
    .description('print the rendered template (exact bytes)')
    .argument('<file>', 'template file')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { readTemplatePath } = await import('../../templates/files.js');
      const { parseTemplate } = await import('../../templates/syntax.js');
      const { renderTemplate } = await import('../../templates/render.js');
      await withContext(cmd, async (ctx) => {
        const max = ctx.config.limits.max_secret_bytes;
        const tpl = parseTemplate(readTemplatePath(file, max), file);
        const signal = interruptSignal();
        const identity = { frontend: 'cli', consumer: `pid:${process.pid}` };
        writeValue(1, await renderTemplate(tpl, (t) => ctx.broker.resolve(t, { identity, signal }), max));
      });
    });
  template
    .command('check')
    .description('parse the template and list the secrets and references it uses (nothing is fetched)')
    .argument('<file>', 'template file')
    .action(async (file: string) => {
      const { readTemplatePath } = await import('../../templates/files.js');
      const { parseTemplate } = await import('../../templates/syntax.js');
      // No context: checking needs neither config nor state (the file size cap is the config maximum).
      const tpl = parseTemplate(readTemplatePath(file, 64 * 1024 * 1024), file);
      writeAll(1, Buffer.from(tpl.targets.map((t) => `${t}\n`).join('')));
    });
}
