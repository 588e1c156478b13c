#!/usr/bin/env node
// First: refuses an unsupported Node before anything else loads, and enables the compile cache.
import './runtime.js';
import { runCli } from './cli/program.js';
import { excludeMemoryFromCoreDumps } from './core/core-dumps.js';

// Before any secret byte is in memory: a crash must not write them to disk.
excludeMemoryFromCoreDumps();

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
