// V8 heap settings for the long-running daemon. Start-up (module loading, migrations, the store,
// the frontends) grows V8's young generation to 16 MiB or more and leaves garbage in the old one;
// a daemon's requests then allocate little and keep less, but those pages stay resident for the
// life of the process. So once serving, the daemon runs one memory-reducing collection (what V8
// does on a low-memory notification: compacts, and shrinks the young generation), and keeps the
// young generation at that size (a few more sub-millisecond scavenges under load). An operator's
// own young-generation flags (argv or NODE_OPTIONS) win over the second part. It also lets V8
// optimize again: start-up ran with the optimizing compilers held (src/core/jit.ts).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { operatorGave, releaseOptimizingCompilers } from '../core/jit.js';

const YOUNG_GEN_FLAG = '--semi-space-growth-factor=1';

/** True when the operator sized the young generation themselves. */
export function operatorSizedYoungGen(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorGave(/^--((max|min)[-_])?semi[-_]space[-_](size|growth[-_]factor)\b/, execArgv, nodeOptions);
}

/** Called once the daemon is serving: releases the compilers, frees start-up garbage, then holds the young generation small. */
export function settleDaemonHeap(): void {
  releaseOptimizingCompilers();
  // --expose-gc set now only gives new contexts a `gc` function; the main context stays as it was.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (opts: object) => void;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  if (!operatorSizedYoungGen(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(YOUNG_GEN_FLAG);
}
