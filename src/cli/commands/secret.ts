// `keyway secret create|ls|inspect|rm|exists` (docs/cli.md).
import type { Command } from 'commander';
import { KeywayError } from '../../core/errors.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { SecretRecord } from '../../store/secrets.js';
import type { Context } from '../../daemon/context.js';
import { withContext } from '../context.js';
import { interruptSignal } from '../interrupt.js';
import { readFdCapped, readFileCapped } from '../io.js';
import { parseId, parseLabel, parseMode } from '../options.js';
import { secretJson } from '../../frontends/api/secret-json.js';
import { EXIT_NOT_FOUND } from '../exit.js';
import { parseFormat, renderTable, renderTemplate } from '../format.js';

function matches(r: SecretRecord, filters: readonly string[]): boolean {
  return filters.every((f) => {
    const eq = f.indexOf('=');
    const key = f.slice(0, eq);
    const val = f.slice(eq + 1);
    if (key === 'name') return r.name.includes(val);
    if (key === 'id') return r.id.startsWith(val);
    if (key === 'label') {
      const e2 = val.indexOf('=');
      return e2 < 0 ? Object.hasOwn(r.labels, val) : r.labels[val.slice(0, e2)] === val.slice(e2 + 1);
    }
    throw new KeywayError('invalid_argument', `--filter: unknown key ${JSON.stringify(key)} (expected name=, id= or label=)`);
  });
}

function checkFilter(f: string, acc: string[]): string[] {
  if (!/^(name|id|label)=/.test(f)) throw new KeywayError('invalid_argument', `--filter: expected name=X, id=X or label=K[=V], got ${JSON.stringify(f.slice(0, 64))}`);
  return [...acc, f];
}

function lookupRecord(ctx: Context, name: string): SecretRecord | undefined {
  return ctx.secrets.find(name);
}

/**
 * Calls `fn` with the record of each of `names` (a name or id), in order, looking each one up just
 * before its call (so `rm a a` removes once, then misses); returns the names that matched none.
 */
async function forEachRecord(ctx: Context, names: readonly string[], fn: (r: SecretRecord) => Promise<void>): Promise<string[]> {
  const missing: string[] = [];
  for (const n of names) {
    const r = lookupRecord(ctx, n);
    if (r) await fn(r);
    else missing.push(n);
  }
  return missing;
}

function noSecretNamed(missing: readonly string[]): KeywayError {
  return new KeywayError('not_found', `no secret named ${missing.map((m) => JSON.stringify(m)).join(', ')}`);
}

export function registerSecret(program: Command): void {
  const secret = program.command('secret').description('manage named secrets');

  secret
    .command('create')
    .description('create a named secret from FILE, stdin (-) or a reference; prints its id')
    .argument('<name>', 'secret name (1-253 chars, no = / , NUL)')
    .argument('[source]', 'FILE to read, or - for stdin')
    .option('--ref <ref>', 'store a reference (ref+provider://path...) instead of a value')
    .option('--label <k=v>', 'label (repeatable)', parseLabel, {})
    .option('--replace', 'replace an existing secret of the same name')
    .option('--mode <octal>', 'default file mode when delivered', (v) => parseMode(v))
    .option('--uid <n>', 'default owner uid when delivered', (v) => parseId(v, '--uid'))
    .option('--gid <n>', 'default owner gid when delivered', (v) => parseId(v, '--gid'))
    .action(async (name: string, source: string | undefined, opts: { ref?: string; label: Record<string, string>; replace?: boolean; mode?: number; uid?: number; gid?: number }, cmd: Command) => {
      if ((source === undefined) === (opts.ref === undefined)) throw new KeywayError('invalid_argument', 'give exactly one of FILE, - (stdin) or --ref REF');
      await withContext(cmd, async (ctx) => {
        const max = ctx.config.limits.max_secret_bytes;
        let value: SecretValue | undefined;
        if (source !== undefined) value = source === '-' ? readFdCapped(0, max, 'stdin') : readFileCapped(source, max);
        try {
          const rec = await ctx.named.create(
            {
              name,
              ...(value ? { value } : {}),
              ...(opts.ref !== undefined ? { ref: opts.ref } : {}),
              labels: opts.label,
              ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
              ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
              ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
              replace: opts.replace === true,
              frontend: 'cli',
            },
            interruptSignal(),
          );
          process.stdout.write(rec.id + '\n');
        } finally {
          value?.zero();
        }
      });
    });

  secret
    .command('ls')
    .alias('list')
    .description('list named secrets (never values)')
    .option('--format <fmt>', "table, json, or a template such as '{{.Name}}' (fields as in --format json)", 'table')
    .option('-q, --quiet', 'print ids only')
    .option('--noheading', 'omit the table header')
    .option('--filter <f>', 'name=X, id=X or label=K[=V] (repeatable)', checkFilter, [])
    .action(async (opts: { format: string; quiet?: boolean; noheading?: boolean; filter: string[] }, cmd: Command) => {
      const format = parseFormat(opts.format);
      await withContext(cmd, async (ctx) => {
        const rows = ctx.secrets.list().filter((r) => matches(r, opts.filter));
        if (opts.quiet) process.stdout.write(rows.map((r) => r.id + '\n').join(''));
        else if (format.kind === 'json') process.stdout.write(JSON.stringify(rows.map(secretJson), null, 2) + '\n');
        else if (format.kind === 'template') process.stdout.write(renderTemplate({ ...format, header: format.header === true && opts.noheading !== true }, rows.map(secretJson)));
        else {
          const data = [['ID', 'NAME', 'BACKEND', 'CREATED', 'UPDATED'], ...rows.map((r) => [r.id, r.name, r.ref !== null ? (r.ref.split('://')[0] ?? '').replace(/^ref\+/, '') : 'local', r.createdAt, r.updatedAt])];
          process.stdout.write(renderTable(data, opts.noheading === true));
        }
      });
    });

  secret
    .command('inspect')
    .description('show named secrets as a JSON array; like Podman, prints those found and fails naming the rest')
    .argument('<names...>', 'secret names or ids')
    .option('--showsecret', 'include the value (base64) in SecretDataBase64')
    .option('--format <fmt>', "json (default), or a template such as '{{.Name}} {{.Mode}}'", 'json')
    .action(async (names: string[], opts: { showsecret?: boolean; format: string }, cmd: Command) => {
      const format = parseFormat(opts.format);
      if (format.kind === 'table') throw new KeywayError('invalid_argument', "--format: inspect prints json or a template such as '{{.Name}}', not a table");
      await withContext(cmd, async (ctx) => {
        const out: Record<string, unknown>[] = [];
        const missing = await forEachRecord(ctx, names, async (r) => {
          const j = secretJson(r);
          if (opts.showsecret) {
            const v = await ctx.broker.resolve(r.name, { identity: { frontend: 'cli' }, signal: interruptSignal() });
            try {
              j.SecretDataBase64 = v.value.expose().toString('base64');
            } finally {
              v.value.zero();
            }
          }
          out.push(j);
        });
        process.stdout.write(format.kind === 'template' ? renderTemplate(format, out) : JSON.stringify(out, null, 2) + '\n');
        if (missing.length > 0) throw noSecretNamed(missing);
      });
    });

  secret
    .command('rm')
    .alias('remove')
    .description('remove named secrets; prints the ids removed')
    .argument('[names...]', 'secret names or ids')
    .option('-a, --all', 'remove every secret')
    .option('-i, --ignore', 'ignore secrets that do not exist')
    .action(async (names: string[], opts: { all?: boolean; ignore?: boolean }, cmd: Command) => {
      if ((opts.all === true) === (names.length > 0)) throw new KeywayError('invalid_argument', names.length > 0 ? 'give secret names or --all, not both' : 'give the secret names (or ids) to remove, or --all');
      await withContext(cmd, async (ctx) => {
        const signal = interruptSignal();
        const missing = await forEachRecord(ctx, opts.all ? ctx.secrets.list().map((r) => r.name) : names, async (r) => {
          await ctx.named.remove(r.name, 'cli', signal);
          process.stdout.write(r.id + '\n');
        });
        if (missing.length > 0 && !opts.ignore) throw noSecretNamed(missing);
      });
    });

  secret
    .command('exists')
    .description('exit 0 if the secret exists, 3 if not')
    .argument('<name>', 'secret name or id')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const found = await withContext(cmd, async (ctx) => lookupRecord(ctx, name) !== undefined);
      if (!found) process.exitCode = EXIT_NOT_FOUND;
    });
}
