// Imported first by the CLI entry point (src/cli.ts), even before src/runtime.ts: `keyway serve`
// holds V8's optimizing compilers until it serves (src/core/jit.ts). Before runtime.ts, because
// turning on the compile cache already calls Node's path functions often enough for V8 to optimize
// one, and because V8's flags are part of the cache's version tag, so serve's cached code (compilers
// held) stays apart from other commands' instead of each overwriting the other's. It only sets V8
// flags, so it runs on any Node that runtime.ts then refuses.
import { holdOptimizingCompilers } from '../core/jit.js';
import { commandName } from './argv.js';

if (commandName(process.argv.slice(2)) === 'serve') holdOptimizingCompilers();
