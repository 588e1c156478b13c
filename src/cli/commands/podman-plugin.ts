// `keyway podman-plugin`: one request of the secret-driver-plugin protocol on stdin, one answer on
// stdout (docs/podman-plugin-protocol.md). Exec'd directly by Podman or a keyway plugin host; no
// arguments beyond keyway's global flags, nothing secret in argv or env.
import type { Command } from 'commander';
import { toKeywayError } from '../../core/errors.js';
import { withContext } from '../context.js';
import { interruptSignal } from '../interrupt.js';
import { reportError } from '../exit.js';
import { readFdCapped, writeAll, writeValue } from '../io.js';

export function registerPodmanPlugin(program: Command): void {
  program
    .command('podman-plugin')
    .description('serve one Podman secret-driver-plugin request (stdin → stdout); see docs/podman-plugin-protocol.md')
    .action(async (_opts: unknown, cmd: Command) => {
      const { MAX_REQUEST_BYTES, errorHeader } = await import('../../frontends/podman/plugin-protocol.js');
      const { servePluginRequest, isProviderRequest } = await import('../../frontends/podman/plugin.js');
      const { LOOKUP_TIMEOUT_MS } = await import('../../frontends/podman/lookup-server.js');
      const input = readFdCapped(0, MAX_REQUEST_BYTES, 'podman-plugin request on stdin');
      const bytes = input.expose();
      try {
        await withContext(cmd, async (ctx) => {
          const { podmanDriverFrom } = await import('../../frontends/podman/wire.js');
          let answer;
          try {
            answer = await servePluginRequest(bytes, { driver: podmanDriverFrom(ctx, 'podman-plugin'), resolver: ctx.broker }, AbortSignal.any([interruptSignal(), AbortSignal.timeout(LOOKUP_TIMEOUT_MS)]));
          } catch (e) {
            const err = toKeywayError(e, 'podman-plugin');
            // Driver requests get a framed error too, so hosts can read the code; provider
            // requests get only stderr, as Podman's provider design expects.
            if (!isProviderRequest(bytes)) writeAll(1, errorHeader(err));
            process.exitCode = reportError(err);
            return;
          }
          if (answer.kind === 'provider') {
            writeValue(1, answer.value);
            return;
          }
          writeAll(1, answer.header);
          if (answer.payload) writeValue(1, answer.payload);
        });
      } finally {
        input.zero();
      }
    });
}
