// The command tree. Each command registers itself from src/cli/commands/NAME.ts; a module is
// imported only when its command runs (or for help and errors, which need the whole tree), so a
// command pays only for what it uses.
import type { Command } from 'commander';
import { VERSION } from '../version.js';
import { EXIT_USAGE, reportFailure } from './exit.js';

type Register = (program: Command) => void;

/** Command name → its registration function, loaded on first use. Order is the help order. */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  secret: async () => (await import('./commands/secret.js')).registerSecret,
  get: async () => (await import('./commands/get.js')).registerGet,
  ref: async () => (await import('./commands/ref.js')).registerRef,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
  run: async () => (await import('./commands/run.js')).registerRun,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  podman: async () => (await import('./commands/podman.js')).registerPodman,
  'podman-plugin': async () => (await import('./commands/podman-plugin.js')).registerPodmanPlugin,
  plugin: async () => (await import('./commands/plugin.js')).registerPlugin,
  template: async () => (await import('./commands/template.js')).registerTemplate,
  volume: async () => (await import('./commands/volume.js')).registerVolume,
  version: async () => (await import('./commands/version.js')).registerVersion,
  completion: async () => (await import('./commands/completion.js')).registerCompletion,
};

/** The program with the named commands, or every command when `only` is not one of them. */
export async function buildProgram(only?: string): Promise<Command> {
  const { Command } = await import('commander');
  const program = new Command('keyway')
    .description('secrets broker for containers: fetch from the secret managers you run, deliver through non-swappable memory only')
    .version(VERSION, '--version', 'print the version')
    .option('--config <path>', 'config file (TOML) [env KEYWAY_CONFIG]')
    .option('--state-dir <dir>', 'state directory [env KEYWAY_STATE_DIR]')
    .option('--runtime-dir <dir>', 'runtime directory for sockets and mounts [env KEYWAY_RUNTIME_DIR]')
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent')
    .option('--log-format <format>', 'auto|text|json: text lines on a terminal, JSON otherwise [env KEYWAY_LOG_FORMAT]')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`keyway: usage: ${str.replace(/^error: /, '').trim()}\n`),
    });
  // `completion` describes the whole tree, so it needs every command, as help does.
  const load = only !== undefined && only !== 'completion' && Object.hasOwn(COMMANDS, only) ? [COMMANDS[only]] : Object.values(COMMANDS);
  for (const register of await Promise.all(load.map((l) => l?.()))) register?.(program);
  return program;
}

/**
 * Runs the CLI and returns the exit code (does not call process.exit). `command` is argv's command
 * name (src/cli/argv.ts), found by the entry before this module loads.
 */
export async function runCli(argv: readonly string[], command: string | undefined): Promise<number> {
  // `keyway version` alone, the usual install probe, is answered without loading the parser.
  if (argv.length === 1 && argv[0] === 'version') {
    const { printVersion } = await import('./commands/version.js');
    printVersion();
    return 0;
  }
  try {
    const program = await buildProgram(command);
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof (await import('commander')).CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    return reportFailure(e, argv);
  }
}
