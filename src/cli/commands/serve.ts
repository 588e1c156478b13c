// `keyway serve`: every frontend enabled in config, until SIGTERM/SIGINT.
import type { Command } from 'commander';
import { globalsOf } from '../context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the daemon: admin API, and the Docker/Podman/Swarm/CSI frontends enabled in config')
    .action(async (_opts: unknown, cmd: Command) => {
      const { runDaemon } = await import('../../daemon/serve.js');
      await (await import('../../core/core-dumps.js')).disableCoreDumps();
      await runDaemon(globalsOf(cmd));
    });
}
