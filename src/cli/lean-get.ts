// `keyway get` without the command tree, for the invocations src/cli/argv.ts recognises.
// scripts/postbuild.mjs builds it apart from the rest: its own file (dist/cli/chunks/lean-get.js)
// and one chunk it shares with the implementations provider instances import on first use.
// Resolving and linking a module costs about what running it does, and through the command tree a
// `get` spans some thirty chunks and commander. The work itself is the command's own
// (print-secret.ts), and a failure ends as it does through the full parser.
import { excludeMemoryFromCoreDumps } from '../core/core-dumps.js';
import { openContext, usingContext } from '../daemon/context.js';
import { printSecret } from './print-secret.js';
import { reportFailure } from './exit.js';
import type { LeanGet } from './argv.js';

export async function runLeanGet(g: LeanGet, argv: readonly string[]): Promise<number> {
  // Before any secret byte is in memory: a crash must not write them to disk.
  excludeMemoryFromCoreDumps();
  try {
    await usingContext(openContext(g.flags), (ctx) => printSecret(ctx, g.target, g.out));
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportFailure(e, argv);
  }
}
