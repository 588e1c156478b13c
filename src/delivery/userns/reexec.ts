// Runs this very keyway invocation again through a namespace tool (unshare, nsenter), with
// setpriv's parent-death signal tying the inner keyway to this process: a SIGKILL here kills it
// too, as if there were one process. Signals are forwarded; resolves to the inner exit status.
// Like `keyway run`'s command, the inner keyway stays in this process group (the terminal's
// foreground group, for job control), so only it is signalled.
import { toKeywayError } from '../../core/errors.js';
import { COMMAND_GRACE_MS, exitStatusOf, Supervised } from '../../core/process/supervise.js';

export async function reexecSelf(tool: string, toolArgs: readonly string[], env: Readonly<Record<string, string | undefined>>, forwarded: readonly NodeJS.Signals[]): Promise<number> {
  const argv = [...toolArgs, '--', 'setpriv', '--pdeathsig', 'KILL', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = new Supervised({ file: tool, args: argv, env: { ...process.env, ...env }, stdio: 'inherit', group: false, graceMs: COMMAND_GRACE_MS });
  const forward = new Map<NodeJS.Signals, () => void>();
  for (const sig of forwarded) {
    const h = (): void => {
      child.signal(sig);
    };
    forward.set(sig, h);
    process.on(sig, h);
  }
  try {
    const e = await child.started;
    if (e !== undefined) throw toKeywayError(e, `cannot start ${tool}(1) to enter keyway's namespace`);
    const { code, signal } = await child.exited;
    return exitStatusOf(code, signal);
  } finally {
    for (const [sig, h] of forward) process.off(sig, h);
  }
}
