// The command tree. Each command registers itself from src/cli/commands/NAME.ts; a module is
// imported only when its command runs (or for help and errors, which need the whole tree), so a
// command pays only for what it uses.
import type { Command } from 'commander';
import { VERSION } from '../version.js';
import { EXIT_USAGE, reportError } from './exit.js';
import { toKeywayError } from '../core/errors.js';

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

/** Global options that take a value as the next argument. */
const VALUE_OPTIONS = new Set(['--config', '--state-dir', '--runtime-dir', '--log-level']);

/** The command argv names, if any: its first argument that is neither a global option nor its value. */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--') return undefined;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

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

/** Runs the CLI and returns the exit code (does not call process.exit). */
export async function runCli(argv: readonly string[]): Promise<number> {
  // `keyway version` alone, the usual install probe, is answered without loading the parser.
  if (argv.length === 1 && argv[0] === 'version') {
    const { printVersion } = await import('./commands/version.js');
    printVersion();
    return 0;
  }
  try {
    const program = await buildProgram(commandName(argv));
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof (await import('commander')).CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    const err = toKeywayError(e);
    const code = reportError(err);
    // An unexpected error says only "internal" on its one line; with debug logging the cause's
    // stack follows, for bug reports. (Causes of internal errors are program faults, not input.)
    const debug = argv.some((a, i) => (a === '--log-level' && /^(debug|trace)$/.test(argv[i + 1] ?? '')) || /^--log-level=(debug|trace)$/.test(a)) || /^(debug|trace)$/.test(process.env.KEYWAY_LOG_LEVEL ?? '');
    if (debug && err.code === 'internal') process.stderr.write(`${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : err.stack}\n`);
    return code;
  }
}
