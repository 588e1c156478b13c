// Wires the Docker/Podman volume plugin and Swarm secret provider into `keyway serve`: the volume
// registry over the store, named secrets as implicit volumes, the broker for values and delivery
// mount sets on the runtime dir's mount root (mounted when the frontend starts).
import { join } from 'node:path';
import { ROOT_DOCKER_SOCKET } from '../config/schema.js';
import { openDelivery } from '../delivery/open.js';
import { joinedPodmanNamespace } from '../delivery/userns/podman-ns.js';
import { deliveryBackend } from '../frontends/docker-volume/delivery-backend.js';
import { DockerPlugin } from '../frontends/docker-volume/plugin.js';
import { VolumesRepo } from '../store/volumes.js';
import type { Context } from './context.js';
import { templatingBroker } from './templates.js';

/** On by default as root, and for a non-root keyway serving from rootless Podman's namespace. */
export function dockerEnabled(ctx: Context): boolean {
  return ctx.config.docker.enabled ?? (ctx.isRoot || joinedPodmanNamespace() !== undefined);
}

/** The root default is a system path; a non-root keyway listens in its runtime dir instead. */
export function dockerSocketPath(ctx: Pick<Context, 'config' | 'isRoot' | 'runtimeDir'>): string {
  const s = ctx.config.docker.socket;
  return !ctx.isRoot && s === ROOT_DOCKER_SOCKET ? join(ctx.runtimeDir, 'docker.sock') : s;
}

/**
 * The descriptor systemd passed for the socket named `name` (FileDescriptorName=), following
 * sd_listen_fds(3): fds start at 3, LISTEN_PID must be this process.
 */
export function activatedFd(env: Readonly<Record<string, string | undefined>>, name: string, pid = process.pid): number | undefined {
  if (env.LISTEN_PID !== String(pid)) return undefined;
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return undefined;
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  const i = names.indexOf(name);
  if (i >= 0 && i < count) return 3 + i;
  // A single unnamed socket is ours when keyway.socket is the only unit passing one.
  return count === 1 && (env.LISTEN_FDNAMES === undefined || env.LISTEN_FDNAMES === '' || env.LISTEN_FDNAMES === 'keyway.socket') ? 3 : undefined;
}

export function dockerFrontend(ctx: Context): DockerPlugin {
  const volumes = new VolumesRepo(ctx.db);
  const fd = activatedFd(ctx.env, 'docker');
  return new DockerPlugin({
    ...(fd !== undefined ? { fd } : {}),
    socket: dockerSocketPath(ctx),
    logger: ctx.logger,
    repo: volumes,
    catalog: {
      createdAt: (name) => ctx.secrets.get(name)?.createdAt,
      names: () => ctx.secrets.list().map((r) => r.name),
    },
    checkRef: (ref) => void ctx.broker.target(ref),
    rotateIntervalMs: ctx.config.delivery.refresh_interval_s * 1000,
    async openBackend() {
      // Delivery takes over the sets of containers that outlived the previous keyway before its
      // orphan sweep runs, or it would wipe secrets out from under running containers.
      const adopt = volumes.listMounts().map((m) => m.mountSetId);
      const delivery = await openDelivery({ runtimeDir: ctx.runtimeDir, db: ctx.db, logger: ctx.logger, adopt });
      if (delivery.root.protection !== 'secure') ctx.logger.warn({ root: delivery.root.path, protection: delivery.root.protection, reason: delivery.root.reason }, 'docker volumes are delivered on a mount root that is not fully secure');
      return deliveryBackend({ resolver: templatingBroker(ctx), sets: delivery.manager });
    },
  });
}
