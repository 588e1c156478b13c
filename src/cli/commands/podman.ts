// `keyway podman driver-opts|list|lookup|store|delete|create`: keyway as Podman's `shell` secret
// driver (Podman ≥ 4). Podman runs the four driver commands through /bin/sh -c with SECRET_ID in
// the environment; driver-opts prints the option string that wires them up, and create runs
// `podman secret create --driver shell` with the payload on stdin (never in argv).
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import { validateSecretName } from '../../core/names.js';
import { Supervised, TOOL_GRACE_MS } from '../../core/process/supervise.js';
import { isReference } from '../../core/reference.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { Settings } from '../../daemon/context.js';
import type { DriverCommandSpec } from '../../frontends/podman/driver-opts.js';
import type { PodmanDriver } from '../../frontends/podman/driver.js';
import { globalsOf, withContext } from '../context.js';
import { interruptSignal } from '../interrupt.js';
import { readFdCapped, writeValue } from '../io.js';
import { parseLabel } from '../options.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LOOKUP_CLIENT = join(PACKAGE_ROOT, 'bin', 'keyway-podman-lookup');
const PERL = '/usr/bin/perl';

/** The argv that runs this very CLI again (node, its flags, the script). */
function selfArgv(): string[] {
  const script = process.argv[1];
  if (script === undefined) throw new KeywayError('internal', 'cannot tell which script is running');
  return [process.execPath, ...process.execArgv, realpathSync(script)];
}

/** The lean lookup entry next to this build (dist/cli/podman-lookup.js, or the .ts under tsx). */
function leanLookupArgv(): string[] | undefined {
  const self = fileURLToPath(import.meta.url);
  const entry = join(dirname(self), '..', `podman-lookup${self.endsWith('.ts') ? '.ts' : '.js'}`);
  return existsSync(entry) ? [process.execPath, ...process.execArgv, entry] : undefined;
}

async function driverSpec(cmd: Command, fast: boolean): Promise<DriverCommandSpec> {
  const { loadSettings } = await import('../../daemon/context.js');
  const flags = globalsOf(cmd);
  const s: Settings = loadSettings(flags);
  const globals: string[] = [];
  if (flags.config !== undefined || s.env.KEYWAY_CONFIG !== undefined) globals.push('--config', resolve(s.configPath));
  const stateDir = resolve(s.stateDir);
  const runtimeDir = resolve(s.runtimeDir);
  globals.push('--state-dir', stateDir, '--runtime-dir', runtimeDir);
  const { LOOKUP_SOCKET_NAME } = await import('../../frontends/podman/lookup-server.js');
  const useFast = fast && existsSync(PERL) && existsSync(LOOKUP_CLIENT);
  const lean = leanLookupArgv();
  return {
    cli: selfArgv(),
    ...(lean ? { lookupCli: lean } : {}),
    globals,
    ...(useFast ? { fastLookup: { interpreter: PERL, client: LOOKUP_CLIENT, socket: join(runtimeDir, LOOKUP_SOCKET_NAME), stateDir } } : {}),
  };
}

async function driverOptsFor(cmd: Command, fast: boolean): Promise<string> {
  const { driverOpts } = await import('../../frontends/podman/driver-opts.js');
  return driverOpts(await driverSpec(cmd, fast));
}

/** A lookup may not hang forever: Podman holds its global secrets lock while it waits. */
async function lookupSignal(): Promise<AbortSignal> {
  const { LOOKUP_TIMEOUT_MS } = await import('../../frontends/podman/lookup-server.js');
  return AbortSignal.any([interruptSignal(), AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]);
}

/** One of the four commands Podman's shell driver runs, with the id Podman passes in $SECRET_ID. */
function driverCommand(podman: Command, name: string, description: string, run: (driver: PodmanDriver, id: string | undefined) => Promise<void>): void {
  podman
    .command(name)
    .description(description)
    .action(async (_opts: unknown, cmd: Command) => {
      const id = process.env.SECRET_ID;
      await withContext(cmd, async (ctx) => {
        const { podmanDriverFrom } = await import('../../frontends/podman/wire.js');
        await run(podmanDriverFrom(ctx), id);
      });
    });
}

async function runPodman(podman: string, args: readonly string[], env: Settings['env'], payload: Buffer, signal: AbortSignal): Promise<number> {
  // Podman insists that stdin be a FIFO ("if `-` is used, data must be passed into stdin"), and
  // Node's stdio pipes are socketpairs, so `cat` relays the payload into a real pipe. The pair runs
  // in its own process group so an interrupt stops both. No sweep when podman exits: a rootless
  // podman may have started the pause process that holds the user's namespace, in this group.
  const proc = new Supervised({
    file: '/bin/sh',
    args: ['-c', 'cat | "$0" "$@"', podman, ...args],
    env,
    stdio: ['pipe', 'inherit', 'inherit'],
    graceMs: TOOL_GRACE_MS,
    sweep: false,
    signal,
  });
  proc.child.stdin?.on('error', () => {
    // podman exited early; its own message and status say why
  });
  proc.child.stdin?.end(payload);
  const ended = await proc.closed;
  if (ended.spawnError) throw toKeywayError(ended.spawnError, 'cannot run /bin/sh for podman');
  if (ended.code === 127) throw new KeywayError('failed_precondition', `cannot run ${podman}: not found (install podman or pass --podman PATH)`);
  return ended.code ?? 1;
}

export function registerPodman(program: Command): void {
  const podman = program.command('podman').description("Podman secrets through Podman's shell driver (Podman >= 4)");

  podman
    .command('setup')
    .description("register keyway as a volume plugin of this user's Podman (root: the system's), in a containers.conf.d drop-in")
    .option('--print', 'only show the file and its content; change nothing')
    .option('--name <name>', 'volume driver name for `podman volume create --driver NAME`', 'keyway')
    .action(async (opts: { print?: boolean; name: string }, cmd: Command) => {
      const { loadSettings } = await import('../../daemon/context.js');
      const { dockerSocketPath } = await import('../../daemon/docker.js');
      const { planVolumePluginConf, writeVolumePluginConf } = await import('../../frontends/podman/volume-plugin-conf.js');
      const s = loadSettings(globalsOf(cmd));
      const plan = planVolumePluginConf({ isRoot: s.isRoot, env: s.env, name: opts.name, socket: resolve(dockerSocketPath(s)) });
      if (plan.warning !== undefined) process.stderr.write(`keyway: warning: ${plan.warning}\n`);
      if (opts.print) {
        process.stdout.write(`# ${plan.path}${plan.changed ? '' : ' (already in place)'}\n${plan.content}`);
        return;
      }
      if (!plan.changed) {
        process.stdout.write(`unchanged: ${plan.path} already registers volume plugin ${opts.name}\n`);
        return;
      }
      writeVolumePluginConf(plan);
      process.stdout.write(`${plan.current === undefined ? 'created' : 'updated'} ${plan.path}:\n${plan.content}`);
    });

  podman
    .command('driver-opts')
    .description('print the --driver-opts value for `podman secret create --driver shell`')
    .option('--no-fast-lookup', 'always look up in a new keyway process instead of asking the running daemon first')
    .action(async (opts: { fastLookup: boolean }, cmd: Command) => {
      process.stdout.write((await driverOptsFor(cmd, opts.fastLookup)) + '\n');
    });

  driverCommand(podman, 'list', 'shell driver: print the stored ids, one per line', async (driver) => {
    process.stdout.write(driver.list().map((id) => id + '\n').join(''));
  });
  driverCommand(podman, 'lookup', 'shell driver: write the exact bytes of $SECRET_ID to stdout', async (driver, id) => {
    writeValue(1, await driver.lookup(id, await lookupSignal()));
  });
  driverCommand(podman, 'store', 'shell driver: keep stdin as $SECRET_ID (a single ref+ line is kept as a reference); prints nothing', async (driver, id) => {
    const { PODMAN_MAX_BYTES } = await import('../../frontends/podman/payload.js');
    await driver.store(id, readFdCapped(0, PODMAN_MAX_BYTES, 'secret data on stdin'), interruptSignal());
  });
  driverCommand(podman, 'delete', 'shell driver: forget $SECRET_ID (fails for an unknown or empty id)', async (driver, id) => {
    await driver.delete(id, interruptSignal());
  });

  podman
    .command('create')
    .description('run `podman secret create --driver shell` for NAME with a reference or stdin (-) as the payload')
    .argument('<name>', 'Podman secret name')
    .argument('<source>', 'a reference ref+provider://path..., or - to read the value from stdin')
    .option('--label <k=v>', 'label on the Podman secret (repeatable)', parseLabel, {})
    .option('--replace', 'pass --replace to podman (Podman >= 4.7)')
    .option('--podman <path>', 'podman executable', 'podman')
    .option('--no-fast-lookup', 'do not use the daemon fast path for lookups')
    .action(async (name: string, source: string, opts: { label: Record<string, string>; replace?: boolean; podman: string; fastLookup: boolean }, cmd: Command) => {
      validateSecretName(name, 'Podman secret name');
      if (process.geteuid?.() !== 0) {
        // Rootless Podman's `--secret` copies the value into its storage on disk; say so, once.
        process.stderr.write(
          'keyway: note: rootless Podman copies the value of a --secret into its container storage on disk (userdata/secrets) when a container is created; ' +
            'a keyway volume (podman volume create --driver keyway, see docs/rootless.md) keeps it in RAM\n',
        );
      }
      if (source !== '-' && !isReference(source)) throw new KeywayError('invalid_argument', `expected a reference (ref+provider://...) or - for stdin, got ${JSON.stringify(source.slice(0, 16))}...`);
      const { PODMAN_MAX_BYTES, checkPodmanSize } = await import('../../frontends/podman/payload.js');
      let payload: SecretValue | undefined;
      if (source === '-') {
        payload = readFdCapped(0, PODMAN_MAX_BYTES, 'secret data on stdin');
        checkPodmanSize(payload.length, 'secret data on stdin');
      } else {
        // Checked here for a clear early error; store checks again in Podman's child.
        const { checkReference } = await import('../../frontends/podman/wire.js');
        await withContext(cmd, async (ctx) => {
          checkReference(ctx.broker, source);
        });
      }
      try {
        const opt = await driverOptsFor(cmd, opts.fastLookup);
        const args = ['secret', 'create', '--driver', 'shell', '--driver-opts', opt];
        for (const [k, v] of Object.entries(opts.label)) args.push('--label', `${k}=${v}`);
        if (opts.replace) args.push('--replace');
        args.push(name, '-');
        const bytes = payload ? payload.expose() : Buffer.from(source + '\n');
        const { loadSettings } = await import('../../daemon/context.js');
        const status = await runPodman(opts.podman, args, loadSettings(globalsOf(cmd)).env, bytes, interruptSignal());
        if (status !== 0) process.exitCode = status;
      } finally {
        payload?.zero();
      }
    });
}
