// The CLI proper: imported by the entry point (src/cli.ts) once it has settled how the process
// starts, so that the entry point's own static imports stay few and small.
import { excludeMemoryFromCoreDumps } from '../core/core-dumps.js';
import { runCli } from './program.js';

/** Runs the CLI and returns the exit code; `command` is argv's command name (src/cli/argv.ts). */
export async function main(argv: readonly string[], command: string | undefined): Promise<number> {
  // Before any secret byte is in memory: a crash must not write them to disk.
  excludeMemoryFromCoreDumps();
  return runCli(argv, command);
}
