// The command tree. Each command registers itself from src/cli/commands/NAME.ts.
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { registerSecret } from './commands/secret.js';
import { registerGet } from './commands/get.js';
import { registerRef } from './commands/ref.js';
import { registerVersion } from './commands/version.js';
import { registerServe } from './commands/serve.js';
import { registerAudit } from './commands/audit.js';
import { registerRun } from './commands/run.js';
import { registerDoctor } from './commands/doctor.js';
import { registerPodman } from './commands/podman.js';
import { registerPodmanPlugin } from './commands/podman-plugin.js';
import { registerPlugin } from './commands/plugin.js';
import { registerCompletion } from './commands/completion.js';
import { registerTemplate } from './commands/template.js';
import { registerVolume } from './commands/volume.js';
import { EXIT_USAGE, reportError } from './exit.js';
import { toKeywayError } from '../core/errors.js';

export function buildProgram(): Command {
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
  registerSecret(program);
  registerGet(program);
  registerRef(program);
  registerAudit(program);
  registerRun(program);
  registerDoctor(program);
  registerServe(program);
  registerPodman(program);
  registerPodmanPlugin(program);
  registerPlugin(program);
  registerTemplate(program);
  registerVolume(program);
  registerVersion(program);
  registerCompletion(program);
  return program;
}

/** Runs the CLI and returns the exit code (does not call process.exit). */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
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
