// `keyway serve`: opens the context, starts the enabled frontends, and shuts down cleanly on
// SIGTERM/SIGINT (idempotent close, in-flight work settles, sockets removed).
import { join } from 'node:path';
import { toKeywayError } from '../core/errors.js';
import type { Frontend } from '../frontends/frontend.js';
import { AdminApi } from '../frontends/api/server.js';
import { LOOKUP_SOCKET_NAME, PodmanLookupServer } from '../frontends/podman/lookup-server.js';
import { podmanDriverFrom } from '../frontends/podman/wire.js';
import { secretJson } from '../cli/commands/secret-json.js';
import { ensurePrivateDir } from '../store/db.js';
import { VERSION } from '../version.js';
import { openContext, type Context, type GlobalOptions } from './context.js';

export interface Daemon {
  readonly ctx: Context;
  readonly frontends: readonly Frontend[];
  close(): Promise<void>;
}

/** The frontends `serve` runs for this config. Frontends default to enabled when running as root. */
export function buildFrontends(ctx: Context): Frontend[] {
  const out: Frontend[] = [];
  if (ctx.config.api.enabled) {
    out.push(
      new AdminApi({
        socket: ctx.config.api.socket ?? join(ctx.runtimeDir, 'keyway.sock'),
        version: VERSION,
        logger: ctx.logger,
        listSecrets: () => ctx.secrets.list(),
        getSecret: (n) => ctx.secrets.get(n),
        toJson: secretJson,
      }),
    );
  }
  // Fast path for Podman's shell-driver lookups (bin/keyway-podman-lookup); private to this user.
  const podman = podmanDriverFrom(ctx);
  out.push(new PodmanLookupServer({ socket: join(ctx.runtimeDir, LOOKUP_SOCKET_NAME), stateDir: ctx.stateDir, logger: ctx.logger, lookup: (id, signal) => podman.lookup(id, signal) }));
  return out;
}

export async function startDaemon(flags: GlobalOptions): Promise<Daemon> {
  const ctx = openContext(flags, 'info');
  ensurePrivateDir(ctx.runtimeDir, 'runtime dir');
  const frontends = buildFrontends(ctx);
  const started: Frontend[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const f of [...started].reverse()) {
        try {
          await f.close();
        } catch (e) {
          ctx.logger.error({ frontend: f.name, err: toKeywayError(e).message }, 'frontend close failed');
        }
      }
      await ctx.close();
    })());
  try {
    for (const f of frontends) {
      await f.start();
      started.push(f);
    }
  } catch (e) {
    await close();
    throw e;
  }
  ctx.logger.info({ frontends: started.map((f) => f.name), stateDir: ctx.stateDir, runtimeDir: ctx.runtimeDir }, 'keyway serving');
  return { ctx, frontends: started, close };
}

/** Runs until SIGTERM/SIGINT; a second signal while closing exits at once. */
export async function runDaemon(flags: GlobalOptions): Promise<void> {
  const d = await startDaemon(flags);
  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (signalled) process.exit(130);
      signalled = true;
      d.ctx.logger.info({ signal: sig }, 'shutting down');
      void d.close().then(resolve, resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
