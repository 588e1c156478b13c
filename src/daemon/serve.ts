// `keyway serve`: opens the context, starts the enabled frontends, and shuts down cleanly on
// SIGTERM/SIGINT (idempotent close, in-flight work settles, sockets removed).
import { join } from 'node:path';
import { toKeywayError } from '../core/errors.js';
import type { Frontend } from '../frontends/frontend.js';
import { AdminApi, RawBody, readJson, requestSignal } from '../frontends/api/server.js';
import { KeywayError } from '../core/errors.js';
import { BrokerMetrics } from '../broker/metrics.js';
import { LOOKUP_SOCKET_NAME, PodmanLookupServer } from '../frontends/podman/lookup-server.js';
import { podmanDriverFrom } from '../frontends/podman/wire.js';
import { secretJson } from '../frontends/api/secret-json.js';
import { ensurePrivateDir } from '../store/db.js';
import { VERSION } from '../version.js';
import { openContext, type Context, type GlobalOptions } from './context.js';
import { dockerEnabled, dockerFrontend } from './docker.js';
import { settleDaemonHeap } from './heap.js';
import { templatingBroker } from './templates.js';

export interface Daemon {
  readonly ctx: Context;
  readonly frontends: readonly Frontend[];
  close(): Promise<void>;
}

/**
 * The frontends `serve` runs for this config. Frontends default to enabled when running as root.
 * CSI (gRPC) and the metrics listener are imported only when enabled.
 */
export async function buildFrontends(ctx: Context): Promise<Frontend[]> {
  const out: Frontend[] = [];
  const registry = ctx.metrics ?? new BrokerMetrics(false);
  const metrics = async (): Promise<{ contentType: string; text: string }> => {
    // Live mount sets of this instance, read from the store at scrape time.
    registry.mountSets.set((ctx.db.prepare('SELECT count(*) AS n FROM mount_sets').get() as { n: number }).n);
    return { contentType: registry.contentType, text: await registry.text() };
  };
  if (ctx.config.api.enabled) {
    const api = new AdminApi({
      socket: ctx.config.api.socket ?? join(ctx.runtimeDir, 'keyway.sock'),
      version: VERSION,
      logger: ctx.logger,
      listSecrets: () => ctx.secrets.list(),
      getSecret: (n) => ctx.secrets.get(n),
      toJson: secretJson,
    });
    api.route('GET /metrics', async () => {
      const m = await metrics();
      return new RawBody(m.contentType, m.text);
    });
    // Values over the 0600 admin socket: the fast path of short-lived clients (podman's shell
    // driver, `keyway get` with a daemon running) that would otherwise open SQLite themselves.
    api.route('POST /v1/resolve', async (req, _url, res) => {
      const body = await readJson(req);
      if (typeof body.target !== 'string') throw new KeywayError('invalid_argument', 'resolve: "target" must be a string (NAME or REF)');
      const r = await ctx.broker.resolve(body.target, {
        identity: { frontend: typeof body.frontend === 'string' ? body.frontend.slice(0, 32) : 'api', ...(typeof body.consumer === 'string' ? { consumer: body.consumer.slice(0, 128) } : {}) },
        signal: requestSignal(res),
        refresh: body.refresh === true,
      });
      return new RawBody('application/octet-stream', r.value);
    });
    out.push(api);
  }
  if (ctx.config.csi.enabled ?? ctx.isRoot) {
    const { socket, access, max_objects: maxObjects, max_response_bytes: maxResponseBytes } = ctx.config.csi;
    const { CsiFrontend } = await import('../frontends/csi/server.js');
    out.push(new CsiFrontend({ socket, resolver: templatingBroker(ctx), logger: ctx.logger, stateDir: ctx.stateDir, version: VERSION, maxObjects, maxResponseBytes, ...(access ? { access } : {}) }));
  }
  if (ctx.config.metrics.listen) {
    const { MetricsServer } = await import('../frontends/metrics/server.js');
    out.push(new MetricsServer(ctx.config.metrics.listen, metrics, ctx.logger));
  }
  // Fast path for Podman's shell-driver lookups (bin/keyway-podman-lookup); private to this user.
  const podman = podmanDriverFrom(ctx);
  out.push(new PodmanLookupServer({ socket: join(ctx.runtimeDir, LOOKUP_SOCKET_NAME), stateDir: ctx.stateDir, logger: ctx.logger, lookup: (id, signal) => podman.lookup(id, signal) }));
  if (dockerEnabled(ctx)) out.push(dockerFrontend(ctx));
  return out;
}

export async function startDaemon(flags: GlobalOptions): Promise<Daemon> {
  const ctx = openContext(flags, 'info', { metrics: (secretNames) => new BrokerMetrics(secretNames) });
  ensurePrivateDir(ctx.runtimeDir, 'runtime dir');
  const pruned = ctx.audit.prune(ctx.config.audit.retention_days);
  if (pruned > 0) ctx.logger.info({ pruned }, 'audit rows past retention removed');
  const frontends = await buildFrontends(ctx);
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
    // After the handlers: a stop signal during the collection still shuts down cleanly.
    settleDaemonHeap();
  });
}
