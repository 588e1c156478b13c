// `keyway run [--secret (NAME|REF)[,target=FILE][,mode=0400][,uid=N][,gid=N]]...
//             [--template SRC[,target=NAME][,mode=0NNN]]...
//             [--env VAR=(NAME|REF)]... [--watch[=restart|signal:SIG]] -- CMD [ARGS...]`
// CMD sees CREDENTIALS_DIRECTORY pointing at a private noswap tmpfs directory; keyway forwards
// signals, exits with CMD's status and removes the directory afterwards.
import type { Command } from 'commander';
import { KeywayError } from '../../core/errors.js';
import { checkDirsBeforeEntering, withContext } from '../context.js';
import { interruptSignal } from '../interrupt.js';

function collect(value: string, acc: string[]): string[] {
  return [...acc, value];
}

interface RunOpts {
  secret: string[];
  template: string[];
  env: string[];
  watch?: string | true;
  refreshInterval?: string;
  allowInsecure?: boolean;
  allowWeak?: boolean;
}

const DEFAULT_REFRESH_S = 60;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run a command with secrets in $CREDENTIALS_DIRECTORY (a private noswap tmpfs dir)')
    .option('--secret <spec>', '(NAME|REF)[,target=FILE][,mode=0400][,uid=N][,gid=N]; repeatable', collect, [])
    .option('--template <spec>', 'SRC[,target=NAME][,mode=0NNN]: render template file SRC into NAME (default: SRC without .tmpl); repeatable', collect, [])
    .option('--env <VAR=TARGET>', 'also put a secret in environment variable VAR (only when asked); repeatable', collect, [])
    .option('--watch [mode]', 'on rotation: "restart" the command (default) or "signal:SIG" it')
    .option('--refresh-interval <seconds>', `how often --watch checks for new versions (default: delivery.refresh_interval_s, else ${DEFAULT_REFRESH_S})`)
    .option('--allow-insecure', 'accept a mount root on a persistent filesystem (not recommended)')
    .option('--allow-weak', 'non-root without user namespaces: accept the swappable tmpfs of $XDG_RUNTIME_DIR')
    // Optional here so that `--watch CMD` (the mode eating the command) reaches parseWatch's hint.
    .argument('[command...]', 'the command and its arguments, after --')
    .action(async (command: string[], opts: RunOpts, cmd: Command) => {
      // Parse everything before touching state, so a typo is a usage error with no side effects.
      const { parseEnvSpec, parseSecretSpec, parseWatch } = await import('../../delivery/run-spec.js');
      const secrets = opts.secret.map(parseSecretSpec);
      const env = opts.env.map(parseEnvSpec);
      const watchMode = opts.watch !== undefined ? parseWatch(opts.watch) : undefined;
      let intervalS: number | undefined;
      if (opts.refreshInterval !== undefined) {
        if (!/^[1-9][0-9]{0,6}$/.test(opts.refreshInterval)) throw new KeywayError('invalid_argument', '--refresh-interval: expected a whole number of seconds ≥ 1');
        intervalS = Number(opts.refreshInterval);
      }
      const [file, ...args] = command;
      if (file === undefined || file.length === 0) throw new KeywayError('invalid_argument', 'run: missing the command after --');
      await (await import('../../core/core-dumps.js')).disableCoreDumps();
      // Non-root: re-executes in a private user + mount namespace (src/delivery/userns/).
      const { planRunIsolation, withoutCapabilities } = await import('../../delivery/userns/run-namespace.js');
      const isolation = await planRunIsolation({ allowWeak: opts.allowWeak === true || opts.allowInsecure === true });
      if (isolation.kind === 'reexec') {
        await checkDirsBeforeEntering(cmd);
        process.exitCode = await isolation.run();
        return;
      }
      const target = isolation.kind === 'namespace' ? withoutCapabilities(file, args) : { file, args };
      const { openDelivery } = await import('../../delivery/open.js');
      const { runProcess, RUN_CONSUMER_PREFIX } = await import('../../delivery/run-process.js');
      const code = await withContext(cmd, async (ctx) => {
        // Templates are read and parsed before anything is mounted or started.
        const { loadRunTemplates } = await import('../../templates/run-spec.js');
        const templates = loadRunTemplates(opts.template, ctx.config.limits.max_secret_bytes);
        const signal = interruptSignal();
        // `run` sweeps only the sets of earlier `run`s: the daemon's volume sets may belong to
        // containers still running while the daemon is down, and the daemon adopts them.
        const delivery = await openDelivery({ runtimeDir: ctx.runtimeDir, db: ctx.db, logger: ctx.logger, allowInsecure: opts.allowInsecure === true, mount: isolation.kind !== 'weak', signal, sweep: (c) => c.startsWith(RUN_CONSUMER_PREFIX) });
        const configured = ctx.config.delivery.refresh_interval_s;
        return runProcess({
          resolver: templates.wrap(ctx.broker),
          manager: delivery.manager,
          logger: ctx.logger,
          secrets: [...secrets, ...templates.secrets],
          env,
          command: target.file,
          args: target.args,
          baseEnv: ctx.env,
          defaultMode: ctx.config.delivery.default_mode,
          signal,
          ...(watchMode !== undefined ? { watch: { mode: watchMode, intervalMs: 1000 * (intervalS ?? (configured > 0 ? configured : DEFAULT_REFRESH_S)) } } : {}),
        });
      });
      process.exitCode = code;
    });
}
