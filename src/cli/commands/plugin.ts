// `keyway plugin register|ls|inspect|rm|verify|test|import` (docs/plugins.md).
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { KeywayError } from '../../core/errors.js';
import type { Context } from '../../daemon/context.js';
import { engineEnv } from '../../core/process/engine-env.js';
import { pluginCatalog, pluginHostDeps } from '../../daemon/plugins.js';
import { BUILTIN_PROVIDERS } from '../../providers/builtin.js';
import { NAMED_SECRET_PROVIDER } from '../../broker/broker.js';
import { PluginsRepo, type PluginRecord } from '../../store/plugins.js';
import { openVerified } from '../../plugins/host/executable.js';
import { prepareRegistration, buildEntry, detectDialect, type RegisterInput, type Registration } from '../../plugins/register.js';
import { readContainersConfPlugins } from '../../plugins/containers-conf.js';
import { formatCase, runConformance } from '../../plugins/conformance.js';
import type { Dialect, Lifecycle, PluginEntry } from '../../plugins/entry.js';
import { hashFile } from '../../plugins/host/executable.js';
import { checkOciImagePresent } from '../../plugins/host/oci-image.js';
import { withContext } from '../context.js';
import { interruptSignal } from '../interrupt.js';
import { EXIT_FAILED } from '../exit.js';

function parseEnv(text: string, acc: Record<string, string> = {}): Record<string, string> {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new KeywayError('invalid_argument', `--env: expected NAME=VALUE, got ${JSON.stringify(text.slice(0, 32))}`);
  return { ...acc, [key]: text.slice(eq + 1) };
}

function collect(v: string, acc: string[] = []): string[] {
  return [...acc, v];
}

function absPaths(paths: readonly string[], option: string): string[] {
  return paths.map((p) => {
    if (!p.startsWith('/')) throw new KeywayError('invalid_argument', `${option}: ${JSON.stringify(p)} must be an absolute path`);
    return p;
  });
}

function parseTimeout(v: string): number {
  if (!/^[1-9][0-9]{0,6}$/.test(v)) throw new KeywayError('invalid_argument', '--timeout: expected milliseconds (1-9999999)');
  return Number(v);
}

interface CommonOpts {
  lifecycle?: Lifecycle;
  dialect?: Dialect;
  allowNetwork?: boolean;
  env: Record<string, string>;
  sandbox: boolean;
  roBind: string[];
  user?: string;
  timeout?: number;
  optionKey: string[];
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--lifecycle <l>', 'oneshot or serve').choices(['oneshot', 'serve']))
    .addOption(new Option('--dialect <d>', 'keyway (protocol v1) or podman (design-doc protocol); default: detect').choices(['keyway', 'podman']))
    .option('--allow-network', 'let the plugin use the network (off by default)')
    .option('--env <k=v>', 'environment variable for the plugin (repeatable; not for secrets)', parseEnv, {})
    .option('--no-sandbox', 'run without bubblewrap (not recommended)')
    .option('--ro-bind <path>', 'extra read-only path visible in the sandbox (repeatable)', collect, [])
    .option('--user <user>', 'unprivileged user the plugin runs as: NAME, UID or UID:GID (default nobody)')
    .option('--timeout <ms>', 'per-request deadline in milliseconds (default 10000)', parseTimeout)
    .option('--option-key <key>', 'query key accepted in ref+NAME://...?key=value (repeatable)', collect, []);
}

function commonInput(o: CommonOpts): Omit<RegisterInput, 'name'> {
  return {
    ...(o.lifecycle ? { lifecycle: o.lifecycle } : {}),
    ...(o.dialect ? { dialect: o.dialect } : {}),
    allowNetwork: o.allowNetwork === true,
    env: o.env,
    sandbox: o.sandbox,
    roBinds: absPaths(o.roBind, '--ro-bind'),
    ...(o.user !== undefined ? { user: o.user } : {}),
    ...(o.timeout !== undefined ? { timeoutMs: o.timeout } : {}),
    optionKeys: o.optionKey,
  };
}

function checkNameFree(ctx: Context, name: string): void {
  if (name === NAMED_SECRET_PROVIDER || BUILTIN_PROVIDERS.some((f) => f.type === name) || Object.hasOwn(ctx.config.providers, name)) {
    throw new KeywayError('already_exists', `"${name}" already names a provider; choose another plugin name`);
  }
  if (Object.hasOwn(ctx.config.plugins, name)) throw new KeywayError('already_exists', `plugin "${name}" is defined in the config file [plugins.${name}]`);
}

function hostDeps(ctx: Context, frontend = 'cli') {
  return pluginHostDeps({ logger: ctx.logger, config: ctx.config, stateDir: ctx.stateDir, runtimeDir: ctx.runtimeDir, configPath: ctx.configPath, isRoot: ctx.isRoot, audit: ctx.audit, frontend, env: ctx.env });
}

/** The catalog's entry for `name` (config file or registered), or not_found. */
function catalogItem(ctx: Context, name: string) {
  const it = pluginCatalog(ctx.config, ctx.db).get(name);
  if (!it) throw new KeywayError('not_found', `no plugin named "${name}"`);
  return it;
}

/** `keyway plugin COMMAND <name>`: one plugin by name, handled in an opened context. */
function onePlugin(plugin: Command, command: string, description: string, run: (ctx: Context, name: string) => Promise<void>): void {
  plugin
    .command(command)
    .description(description)
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      await withContext(cmd, (ctx) => run(ctx, name));
    });
}

function recordJson(r: PluginRecord | undefined, entry: PluginEntry, source: string): Record<string, unknown> {
  return {
    Name: entry.name,
    Source: source,
    Path: entry.path ?? null,
    Sha256: entry.sha256 ?? null,
    OciImage: entry.ociImage ?? null,
    Runtime: entry.runtime ?? null,
    Lifecycle: entry.lifecycle,
    Dialect: entry.dialect,
    AllowNetwork: entry.allowNetwork,
    Sandbox: entry.sandbox,
    Env: Object.keys(entry.env),
    RoBinds: entry.roBinds,
    User: entry.user ?? 'nobody',
    OptionKeys: entry.optionKeys,
    TimeoutMs: entry.timeoutMs,
    ...(r ? { Ops: r.options.ops ?? null, PluginVersion: r.options.plugin_version ?? null, ImportedFrom: r.options.source ?? null, CreatedAt: r.createdAt, UpdatedAt: r.updatedAt } : {}),
  };
}

export function registerPlugin(program: Command): void {
  const plugin = program.command('plugin').description('manage out-of-process secret plugins (pinned by sha256, sandboxed)');

  withCommonOptions(
    plugin
      .command('register')
      .description('pin a plugin executable (or OCI image) under NAME; ref+NAME://... then works everywhere')
      .argument('<name>', 'plugin name (lowercase letters, digits, - _)')
      .argument('[path]', 'absolute path of the executable')
      .option('--sha256 <hex>', 'expected sha256 of the executable (default: pin the file as it is now)')
      .option('--oci-image <image>', 'run IMAGE@sha256:DIGEST through podman instead of an executable')
      .addOption(new Option('--runtime <rt>', 'OCI runtime for --oci-image').choices(['runc', 'crun', 'runsc']))
      .option('--replace', 'replace an existing registration'),
  ).action(async (name: string, path: string | undefined, opts: CommonOpts & { sha256?: string; ociImage?: string; runtime?: string; replace?: boolean }, cmd: Command) => {
    await withContext(cmd, async (ctx) => {
      checkNameFree(ctx, name);
      const repo = new PluginsRepo(ctx.db);
      if (!opts.replace && repo.get(name)) throw new KeywayError('already_exists', `plugin "${name}" is already registered (use --replace)`);
      const reg = await prepareRegistration(
        {
          name,
          ...(path !== undefined ? { path: resolve(path) } : {}),
          ...(opts.sha256 !== undefined ? { sha256: opts.sha256 } : {}),
          ...(opts.ociImage !== undefined ? { ociImage: opts.ociImage } : {}),
          ...(opts.runtime !== undefined ? { runtime: opts.runtime } : {}),
          ...commonInput(opts),
        },
        hostDeps(ctx),
        interruptSignal(),
      );
      repo.put(reg.record, opts.replace === true);
      ctx.audit.record({ action: 'plugin.register', frontend: 'cli', subject: name, provider: name, outcome: 'ok', detail: reg.record.sha256 ? `sha256=${reg.record.sha256}` : `image=${reg.record.ociImage ?? ''}` });
      if (reg.detected) process.stderr.write(`keyway: note: ${reg.detected}\n`);
      process.stdout.write(`${name} ${reg.record.sha256 ?? reg.record.ociImage ?? ''} ${reg.record.dialect} ${reg.record.lifecycle}\n`);
    });
  });

  plugin
    .command('ls')
    .description('list plugins (config and registered)')
    .option('--format <fmt>', 'table or json', 'table')
    .action(async (opts: { format: string }, cmd: Command) => {
      await withContext(cmd, async (ctx) => {
        const catalog = pluginCatalog(ctx.config, ctx.db);
        const repo = new PluginsRepo(ctx.db);
        // One unreadable entry is shown with its error; it never hides the others.
        const items = catalog.names().flatMap((n): Record<string, unknown>[] => {
          try {
            const it = catalog.get(n);
            return it ? [recordJson(it.source === 'registered' ? repo.get(n) : undefined, it.entry, it.source)] : [];
          } catch (e) {
            return [{ Name: n, Source: 'registered', Error: e instanceof KeywayError ? e.message : String(e) }];
          }
        });
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(items, null, 2) + '\n');
          return;
        }
        const rows = [['NAME', 'LIFECYCLE', 'DIALECT', 'SOURCE', 'PINNED'], ...items.map((i) => (i.Error !== undefined ? [String(i.Name), '-', '-', String(i.Source), `invalid: ${String(i.Error)}`] : [String(i.Name), String(i.Lifecycle), String(i.Dialect), String(i.Source), i.Sha256 ? `sha256:${String(i.Sha256).slice(0, 12)}` : String(i.OciImage)]))];
        const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
        process.stdout.write(rows.map((r) => r.map((v, c) => v.padEnd((widths[c] ?? 0) + 2)).join('').trimEnd()).join('\n') + '\n');
      });
    });

  onePlugin(plugin, 'inspect', 'show a plugin entry as JSON', async (ctx, name) => {
    const it = catalogItem(ctx, name);
    const rec = it.source === 'registered' ? new PluginsRepo(ctx.db).get(name) : undefined;
    process.stdout.write(JSON.stringify(recordJson(rec, it.entry, it.source), null, 2) + '\n');
  });

  onePlugin(plugin, 'rm', 'remove a registered plugin', async (ctx, name) => {
    if (Object.hasOwn(ctx.config.plugins, name)) throw new KeywayError('failed_precondition', `plugin "${name}" comes from the config file; remove [plugins.${name}] there`);
    if (!new PluginsRepo(ctx.db).remove(name)) throw new KeywayError('not_found', `no registered plugin named "${name}"`);
    ctx.audit.record({ action: 'plugin.rm', frontend: 'cli', subject: name, provider: name, outcome: 'ok' });
    process.stdout.write(`${name}\n`);
  });

  onePlugin(plugin, 'verify', "check a plugin's pinned hash (and plugin_dir rules) against the file now", async (ctx, name) => {
    const e = catalogItem(ctx, name).entry;
    if (e.ociImage !== undefined) {
      await checkOciImagePresent('podman', e.ociImage, engineEnv(ctx.env), interruptSignal());
      process.stdout.write(`ok ${name} ${e.ociImage}\n`);
      return;
    }
    const v = openVerified(e.path ?? '', e.sha256 ?? '', ctx.config.plugin_dir);
    v.dispose();
    process.stdout.write(`ok ${name} sha256:${v.sha256}\n`);
  });

  withCommonOptions(
    plugin
      .command('test')
      .description('run the conformance suite against a plugin executable; one line per case, exit 0 iff all pass')
      .argument('<path>', 'plugin executable')
      .option('--lookup <path>', 'a path the plugin serves, to check a successful lookup'),
  ).action(async (path: string, opts: CommonOpts & { lookup?: string }, cmd: Command) => {
    await withContext(cmd, async (ctx) => {
      const abs = resolve(path);
      const input: RegisterInput = { name: 'conformance', path: abs, ...commonInput(opts) };
      // No plugin_dir rule here: `test` checks a candidate before it is installed.
      const deps = { ...hostDeps(ctx, 'cli'), onLaunch: undefined, pluginDir: undefined };
      const sha = hashFile(abs);
      let dialect = opts.dialect;
      if (dialect === undefined) {
        // Detect as `register` does; a describe that fails otherwise is reported as a failed case.
        const found = await detectDialect(buildEntry(input, sha, 'keyway', opts.optionKey), deps, interruptSignal()).catch(() => undefined);
        dialect = found?.dialect ?? 'keyway';
        if (found?.detected) process.stdout.write(`note: ${found.detected}\n`);
      }
      const entry = buildEntry(input, sha, dialect, opts.optionKey);
      const results = await runConformance(entry, deps, {
        signal: interruptSignal(),
        ...(opts.lookup !== undefined ? { knownPath: opts.lookup } : {}),
        onCase: (r) => process.stdout.write(formatCase(r) + '\n'),
      });
      const failed = results.filter((r) => r.status === 'fail').length;
      const passed = results.filter((r) => r.status === 'ok').length;
      const skipped = results.length - failed - passed;
      process.stdout.write(`${failed === 0 ? 'PASS' : 'FAIL'}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
      if (failed > 0) process.exitCode = EXIT_FAILED;
    });
  });

  withCommonOptions(
    plugin
      .command('import')
      .description('register the plugins of a containers.conf [secrets.driver_plugins] (and [secrets.providers]) table, pinning each hash now')
      .requiredOption('--containers-conf <path>', 'containers.conf to read')
      .option('--replace', 'replace existing registrations of the same names'),
  ).action(async (opts: CommonOpts & { containersConf: string; replace?: boolean }, cmd: Command) => {
    await withContext(cmd, async (ctx) => {
      const found = readContainersConfPlugins(opts.containersConf);
      if (found.length === 0) throw new KeywayError('not_found', `${opts.containersConf} has no [secrets.driver_plugins] or [secrets.providers] entries`);
      const repo = new PluginsRepo(ctx.db);
      const deps = hostDeps(ctx);
      // Check every entry before writing any, so a bad entry leaves the catalog as it was.
      const regs: Registration[] = [];
      for (const f of found) {
        checkNameFree(ctx, f.name);
        if (!opts.replace && repo.get(f.name)) throw new KeywayError('already_exists', `plugin "${f.name}" is already registered (use --replace)`);
        regs.push(await prepareRegistration({ name: f.name, path: f.path, ...commonInput(opts), dialect: opts.dialect ?? 'podman', source: `containers.conf ${resolve(opts.containersConf)} [secrets.${f.table}]` }, deps, interruptSignal()));
      }
      ctx.db.transaction(() => {
        for (const r of regs) repo.put(r.record, opts.replace === true);
      })();
      for (const r of regs) {
        ctx.audit.record({ action: 'plugin.register', frontend: 'cli', subject: r.record.name, provider: r.record.name, outcome: 'ok', detail: `sha256=${r.record.sha256 ?? ''} imported` });
        process.stdout.write(`${r.record.name} ${r.record.sha256 ?? ''} ${r.record.dialect}\n`);
      }
    });
  });
}
