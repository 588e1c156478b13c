// The keyway Docker plugin as one frontend: a docker.volumedriver/1.0 volume driver and a
// docker.secretprovider/1.0 Swarm secret driver on one unix socket (Docker and Podman find it as
// /run/docker/plugins/<name>.sock). Live volume mounts rotate through delivery's refresher.
import { KeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Frontend } from '../frontend.js';
import { SwarmSecretProvider } from '../swarm/secret-provider.js';
import type { VolumesRepo } from '../../store/volumes.js';
import type { SecretCatalog, VolumeBackend } from './backend.js';
import { VolumeDriver } from './driver.js';
import { PluginServer } from './http.js';
import { wireOk } from './wire.js';

export interface DockerPluginOptions {
  readonly socket: string;
  readonly mode?: number;
  readonly logger: Logger;
  readonly repo: VolumesRepo;
  readonly catalog: SecretCatalog;
  /** See VolumeDriverOptions.checkRef. */
  readonly checkRef?: (ref: string) => void;
  /** Opened at start (it may mount the delivery root). */
  readonly openBackend: () => Promise<VolumeBackend>;
  /** Serve /SecretProvider.GetSecret too (default true). */
  readonly swarm?: boolean;
  /** Rotation check interval for live mounts; 0 or absent disables it. */
  readonly rotateIntervalMs?: number;
  readonly requestTimeoutMs?: number;
  /** Listening socket from systemd socket activation (see activatedFd). */
  readonly fd?: number;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export class DockerPlugin implements Frontend {
  readonly name = 'docker';
  readonly driver: VolumeDriver;
  readonly #o: DockerPluginOptions;
  readonly #server: PluginServer;
  #backend: VolumeBackend | undefined;
  #started = false;

  constructor(opts: DockerPluginOptions) {
    this.#o = opts;
    this.driver = new VolumeDriver({
      repo: opts.repo,
      catalog: opts.catalog,
      logger: opts.logger,
      ...(opts.checkRef ? { checkRef: opts.checkRef } : {}),
      ...(opts.rotateIntervalMs !== undefined ? { rotateIntervalMs: opts.rotateIntervalMs } : {}),
    });
    this.#server = new PluginServer({
      socket: opts.socket,
      ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
      logger: opts.logger,
      what: 'keyway docker plugin',
      ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
      ...(opts.fd !== undefined ? { fd: opts.fd } : {}),
    });
    const d = this.driver;
    const implementsList = opts.swarm === false ? ['VolumeDriver'] : ['VolumeDriver', 'secretprovider'];
    const s = this.#server;
    s.route('/Plugin.Activate', () => wireOk({ Implements: implementsList }));
    s.route('/VolumeDriver.Capabilities', () => wireOk({ Capabilities: { Scope: 'local' } }));
    s.route('/VolumeDriver.Create', (b) => (d.create(str(b.Name), b.Opts), wireOk()));
    s.route('/VolumeDriver.Remove', (b) => (d.remove(str(b.Name)), wireOk()));
    s.route('/VolumeDriver.Get', (b) => wireOk({ Volume: d.get(str(b.Name)) }));
    s.route('/VolumeDriver.List', () => wireOk({ Volumes: d.list() }));
    s.route('/VolumeDriver.Path', (b) => wireOk({ Mountpoint: d.path(str(b.Name)) }));
    s.route('/VolumeDriver.Mount', async (b, signal) => wireOk({ Mountpoint: await d.mount(str(b.Name), b.ID, signal) }));
    s.route('/VolumeDriver.Unmount', async (b) => (await d.unmount(str(b.Name), b.ID), wireOk()));
    if (opts.swarm !== false) {
      // Swarm names its caller as { frontend, consumer }; the backend takes the broker's context.
      const swarm = new SwarmSecretProvider(
        { resolve: (t, ctx) => this.#requireBackend().resolve(t, { identity: { frontend: ctx.frontend, ...(ctx.consumer ? { consumer: ctx.consumer } : {}) }, signal: ctx.signal }) },
        opts.logger,
      );
      s.route('/SecretProvider.GetSecret', async (b, signal) => ({ ...wireOk(await swarm.getSecret(b, signal)), sensitive: true }));
    }
  }

  #requireBackend(): VolumeBackend {
    if (!this.#backend) throw new KeywayError('unavailable', 'the docker plugin is not started yet');
    return this.#backend;
  }

  get socket(): string {
    return this.#server.socket;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    const backend = await this.#o.openBackend();
    this.#backend = backend;
    // The sets that running containers still use were adopted when the backend opened delivery.
    this.driver.attach(backend);
    try {
      await this.#server.start();
    } catch (e) {
      await this.driver.close();
      throw e;
    }
    this.#started = true;
    this.#o.logger.info({ socket: this.#o.socket }, 'docker plugin listening');
  }

  /**
   * Stops serving. Live mount sets stay: containers still read them, and the next keyway process
   * adopts them so Docker's later Unmount still wipes them.
   */
  async close(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    await this.driver.close();
    await this.#server.close();
  }
}
