// Runs this very keyway invocation again through a namespace tool (unshare, nsenter), with
// setpriv's parent-death signal tying the inner keyway to this process: a SIGKILL here kills it
// too, as if there were one process. Signals are forwarded; resolves to the inner exit status.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants as osc } from 'node:os';
import { toKeywayError } from '../../core/errors.js';

export async function reexecSelf(tool: string, toolArgs: readonly string[], env: Readonly<Record<string, string | undefined>>, forwarded: readonly NodeJS.Signals[]): Promise<number> {
  const argv = [...toolArgs, '--', 'setpriv', '--pdeathsig', 'KILL', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn(tool, argv, { env: { ...process.env, ...env }, stdio: 'inherit' });
  const forward = new Map<NodeJS.Signals, () => void>();
  for (const sig of forwarded) {
    const h = (): void => {
      child.kill(sig);
    };
    forward.set(sig, h);
    process.on(sig, h);
  }
  try {
    const [code, sig] = await Promise.race([
      once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>,
      once(child, 'error').then(([e]) => {
        throw toKeywayError(e, `cannot start ${tool}(1) to enter keyway's namespace`);
      }),
    ]);
    return code ?? 128 + (sig !== null ? (osc.signals[sig] ?? 0) : 0);
  } finally {
    for (const [sig, h] of forward) process.off(sig, h);
  }
}
