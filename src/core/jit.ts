// V8's optimizing compilers (Maglev, TurboFan) during the daemon's start-up. Start-up code runs
// once, yet module loading calls Node's own URL and path functions often enough that V8 optimizes
// them: CPU spent for nothing, and the first use of each compiler pages in ~8 MiB of its code from
// the node binary, resident for the life of the daemon. So `serve` holds both compilers from the
// CLI's first module (src/cli/hold-compilers.ts) and releases them once serving
// (src/daemon/heap.ts), after which request paths are optimized as usual. Only `serve`: any V8
// flag change makes Node reject the code cache of every built-in module loaded afterwards, which a
// short command would pay for in start-up time. An operator's own JIT tier flags (argv or
// NODE_OPTIONS) win: then neither hold nor release. Here in core, not in the daemon, because every
// CLI start loads it.

/**
 * V8's flags, through node:v8 loaded only when used: importing it costs every CLI start ~1 ms. Not
 * through createRequire(import.meta.url): turning that URL into a path runs Node's path functions
 * once per character, which below a long enough install path made V8 optimize one before the hold
 * took effect. A Node without getBuiltinModule is older than keyway supports and is refused right
 * after this runs, so it is left alone.
 */
function setV8Flags(flags: string): void {
  (process.getBuiltinModule as typeof process.getBuiltinModule | undefined)?.('node:v8').setFlagsFromString(flags);
}

/** True when the operator gave a flag matching `flag` to node, on its command line or in NODE_OPTIONS. */
export function operatorGave(flag: RegExp, execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => flag.test(a));
}

/** True when the operator chose V8's JIT tiers themselves. */
export function operatorSetJitTiers(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorGave(/^--(no[-_])?(maglev|turbofan|turboshaft|sparkplug|jitless|opt|max[-_]opt|always[-_](opt|turbofan|sparkplug))\b/, execArgv, nodeOptions);
}

/** Keeps V8 from optimizing until releaseOptimizingCompilers(); unoptimized code still runs. */
export function holdOptimizingCompilers(): void {
  if (!operatorSetJitTiers(process.execArgv, process.env.NODE_OPTIONS)) setV8Flags('--no-maglev --no-turbofan');
}

/**
 * Lets V8 optimize hot code again. Keeps no state: dist/cli.js holds with its own copy of this
 * module, and turning on compilers that are on changes nothing (not even V8's flag hash).
 */
export function releaseOptimizingCompilers(): void {
  if (!operatorSetJitTiers(process.execArgv, process.env.NODE_OPTIONS)) setV8Flags('--maglev --turbofan');
}
