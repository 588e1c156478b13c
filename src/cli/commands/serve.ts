// `keyway serve`: every frontend enabled in config, until SIGTERM/SIGINT.
import type { Command } from 'commander';
import { checkDirsBeforeEntering, globalsOf } from '../context.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the daemon: admin API, and the Docker/Podman/Swarm/CSI frontends enabled in config')
    .action(async (_opts: unknown, cmd: Command) => {
      await (await import('../../core/core-dumps.js')).disableCoreDumps();
      // Non-root with rootless Podman: serve from inside Podman's namespace (src/delivery/userns/).
      const { planServeIsolation, watchPodmanNamespace } = await import('../../delivery/userns/serve-namespace.js');
      const isolation = await planServeIsolation();
      if (isolation.kind === 'reexec') {
        await checkDirsBeforeEntering(cmd);
        process.exitCode = await isolation.run();
        return;
      }
      const stopWatch = isolation.kind === 'podman' ? watchPodmanNamespace(isolation.ns) : undefined;
      const { runDaemon } = await import('../../daemon/serve.js');
      try {
        await runDaemon(globalsOf(cmd));
      } finally {
        stopWatch?.();
      }
    });
}
