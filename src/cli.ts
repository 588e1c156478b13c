#!/usr/bin/env node
// First: `serve` holds V8's optimizing compilers (src/core/jit.ts); runtime.ts refuses an
// unsupported Node and enables the compile cache. Then the CLI itself, imported only now: V8 would
// optimize Node's module-resolution code after just a few more module files, so the build keeps
// these modules in dist/cli.js itself.
import './cli/hold-compilers.js';
import './runtime.js';
import { commandName, leanGetArgs } from './cli/argv.js';

const argv = process.argv.slice(2);
// A plain `keyway get`, the hot path of scripts, skips the command tree (src/cli/lean-get.ts).
const lean = leanGetArgs(argv);
process.exitCode = lean !== undefined ? await (await import('./cli/lean-get.js')).runLeanGet(lean, argv) : await (await import('./cli/main.js')).main(argv, commandName(argv));
