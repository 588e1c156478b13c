// The volume model behind docker.volumedriver/1.0, independent of HTTP: explicit volumes from the
// store, named secrets as implicit volumes, and one delivery mount set per (volume, mount id), kept
// current by delivery's refresher (the same one `keyway run --watch` uses).
// Docker sends a fresh random ID per mount point; Podman sends one fixed ID and counts mounts
// itself, so a repeated ID is reference-counted rather than given a second set.
import { KeywayError, toKeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { validateVolumeName } from '../../core/names.js';
import type { Resolved } from '../../broker/types.js';
import { Refresher, type Watch, type WatchedFile } from '../../delivery/refresher.js';
import type { VolumesRepo } from '../../store/volumes.js';
import type { DeliveredFile, DeliveredSet, SecretCatalog, SetOptions, VolumeBackend } from './backend.js';
import { describeSource, implicitSpec, parseVolumeOptions, volumeFiles, type VolumeSpec } from './volume-options.js';

const MAX_MOUNT_ID = 256;

export interface VolumeInfo {
  readonly Name: string;
  readonly Mountpoint: string;
  readonly CreatedAt: string;
  readonly Status: Record<string, unknown>;
}

interface LiveMount {
  readonly volume: string;
  readonly mountId: string;
  readonly set: DeliveredSet;
  readonly mountpoint: string;
  refcount: number;
  /** Rotation of the set; none when the volume was removed behind our back (still released on Unmount). */
  readonly watch: Watch | undefined;
}

export interface VolumeDriverOptions {
  readonly repo: VolumesRepo;
  readonly catalog: SecretCatalog;
  readonly logger: Logger;
  /**
   * Checks a ref= option as `secret create --ref` does (provider exists, options known) without
   * fetching, so a typo fails `docker volume create` rather than the first container start.
   */
  readonly checkRef?: (ref: string) => void;
  /** Rotation check interval of live mounts; 0 or absent: only when rotate() is called. */
  readonly rotateIntervalMs?: number;
}

/** RFC 3339 without fractional seconds, as Docker prints volume times. */
function rfc3339(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

function checkMountId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) throw new KeywayError('invalid_argument', 'mount ID is missing');
  if (id.length > MAX_MOUNT_ID || !/^[\x21-\x7e]+$/.test(id)) throw new KeywayError('invalid_argument', 'mount ID must be 1-256 printable characters');
  return id;
}

export class VolumeDriver {
  readonly #o: VolumeDriverOptions;
  #backend: VolumeBackend | undefined;
  #refresher: Refresher | undefined;
  readonly #live = new Map<string, LiveMount>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(opts: VolumeDriverOptions) {
    this.#o = opts;
  }

  get #b(): VolumeBackend {
    if (!this.#backend) throw new KeywayError('unavailable', 'the volume driver is not started yet');
    return this.#backend;
  }

  /** Attaches the backend and takes back the mounts recorded by an earlier process (restart). */
  attach(backend: VolumeBackend): void {
    this.#backend = backend;
    this.#refresher = new Refresher({ resolver: backend, logger: this.#o.logger });
    for (const m of this.#o.repo.listMounts()) {
      const set = backend.adoptSet(m.mountSetId);
      if (!set) {
        this.#o.repo.deleteMount(m.volume, m.mountId);
        this.#o.logger.warn({ volume: m.volume, mountId: m.mountId }, 'a recorded volume mount has no mount set any more; forgetting it');
        continue;
      }
      let mountpoint = set.dir;
      let watch: Watch | undefined;
      try {
        const spec = this.#spec(m.volume);
        const v = volumeFiles(m.volume, spec);
        const first = v.files[0];
        if (v.single && first) mountpoint = set.filePath(first.name);
        // No change tokens after a restart: the first check compares fresh values with the files.
        watch = this.#watch(m.volume, m.mountId, set, spec, v.files.map((f) => ({ ...f, version: undefined })));
      } catch {
        // The volume was removed behind our back: not rotated, but still released on Unmount.
        watch = undefined;
      }
      this.#live.set(this.#key(m.volume, m.mountId), { volume: m.volume, mountId: m.mountId, set, mountpoint, refcount: m.refcount, watch });
    }
  }

  /** Stops rotating (the sets stay: containers still read them, and the next process adopts them). */
  async close(): Promise<void> {
    await this.#refresher?.stopAll();
  }

  #consumer(volume: string, mountId: string): string {
    return `docker:${volume}/${mountId.slice(0, 64)}`;
  }

  #watch(volume: string, mountId: string, set: DeliveredSet, spec: VolumeSpec, files: readonly { name: string; target: string; version: string | undefined }[]): Watch {
    if (!this.#refresher) throw new KeywayError('unavailable', 'the volume driver is not started yet');
    const watched: WatchedFile[] = files.map((f) => ({
      name: f.name,
      target: f.target,
      ...(spec.mode !== undefined ? { mode: spec.mode } : {}),
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
      ...(f.version !== undefined ? { version: f.version } : {}),
    }));
    return this.#refresher.watch(set, watched, {
      intervalMs: this.#o.rotateIntervalMs ?? 0,
      identity: { frontend: 'docker', consumer: this.#consumer(volume, mountId) },
      onRotate: () => this.#o.logger.info({ volume, set: set.id }, 'volume content rotated'),
    });
  }

  #key(volume: string, mountId: string): string {
    return `${volume}\u0000${mountId}`;
  }

  /** Serializes operations on one volume (Docker may mount the same volume concurrently). */
  async #locked<T>(volume: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(volume) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.#locks.set(volume, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(volume) === tail) this.#locks.delete(volume);
    }
  }

  /** The spec of an explicit volume, else of the named secret of that name, else not_found. */
  #spec(name: string): VolumeSpec {
    const rec = this.#o.repo.get(name);
    if (rec) {
      const spec = parseVolumeOptions(name, rec.opts);
      return spec ?? implicitSpec(name);
    }
    if (this.#o.catalog.createdAt(name) !== undefined) return implicitSpec(name);
    throw new KeywayError('not_found', `no volume or named secret ${JSON.stringify(name)} (create it with "keyway secret create ${name} ..." or "docker volume create -d keyway -o ref=REF ${name}")`);
  }

  #requireSecrets(spec: VolumeSpec): void {
    const names = spec.source.kind === 'secret' ? [spec.source.name] : spec.source.kind === 'secrets' ? spec.source.names : [];
    for (const n of names) {
      if (this.#o.catalog.createdAt(n) === undefined) throw new KeywayError('not_found', `no named secret ${JSON.stringify(n)}`);
    }
  }

  create(name: string, opts: unknown): void {
    validateVolumeName(name);
    const spec = parseVolumeOptions(name, opts);
    const existing = this.#o.repo.get(name);
    if (spec === undefined) {
      if (existing) return;
      if (this.#o.catalog.createdAt(name) !== undefined) return;
      this.#spec(name);
      return;
    }
    const raw = opts as Record<string, string>;
    if (existing) {
      const same = JSON.stringify(Object.entries(existing.opts).sort()) === JSON.stringify(Object.entries(raw).sort());
      if (same) return;
      throw new KeywayError('already_exists', `volume ${JSON.stringify(name)} already exists with other options; remove it first`);
    }
    this.#requireSecrets(spec);
    if (spec.source.kind === 'ref') this.#o.checkRef?.(spec.source.ref);
    this.#o.repo.create(name, raw);
    this.#o.logger.info({ volume: name, ...describeSource(spec.source) }, 'volume created');
  }

  remove(name: string): void {
    validateVolumeName(name);
    const inUse = [...this.#live.values()].filter((m) => m.volume === name).length;
    if (inUse > 0) throw new KeywayError('failed_precondition', `volume ${JSON.stringify(name)} is in use by ${inUse} mount(s)`);
    if (this.#o.repo.delete(name)) this.#o.logger.info({ volume: name }, 'volume removed');
  }

  #mountpointOf(name: string): string {
    for (const m of this.#live.values()) if (m.volume === name) return m.mountpoint;
    return '';
  }

  path(name: string): string {
    validateVolumeName(name);
    this.#spec(name);
    return this.#mountpointOf(name);
  }

  get(name: string): VolumeInfo {
    validateVolumeName(name);
    const spec = this.#spec(name);
    const created = this.#o.repo.get(name)?.createdAt ?? this.#o.catalog.createdAt(name) ?? new Date().toISOString();
    const mounts = [...this.#live.values()].filter((m) => m.volume === name).length;
    return { Name: name, Mountpoint: this.#mountpointOf(name), CreatedAt: rfc3339(created), Status: { ...describeSource(spec.source), Mounts: mounts } };
  }

  list(): { Name: string; Mountpoint: string }[] {
    const names = new Set(this.#o.repo.list().map((v) => v.name));
    for (const n of this.#o.catalog.names()) {
      try {
        validateVolumeName(n);
        names.add(n);
      } catch {
        // A named secret whose name Docker cannot use as a volume name is not listed.
      }
    }
    return [...names].sort().map((n) => ({ Name: n, Mountpoint: this.#mountpointOf(n) }));
  }

  async mount(name: string, mountId: unknown, signal: AbortSignal): Promise<string> {
    validateVolumeName(name);
    const id = checkMountId(mountId);
    return this.#locked(name, async () => {
      const key = this.#key(name, id);
      const live = this.#live.get(key);
      if (live) {
        this.#o.repo.setRefcount(name, id, live.refcount + 1);
        live.refcount += 1;
        return live.mountpoint;
      }
      const spec = this.#spec(name);
      const { single, files } = volumeFiles(name, spec);
      const consumer = this.#consumer(name, id);
      const resolved = await this.#b.resolveMany(
        files.map((f) => f.target),
        { identity: { frontend: 'docker', consumer }, signal },
      );
      let versions: (string | undefined)[];
      let set: DeliveredSet;
      try {
        versions = resolved.map((r) => this.#b.versionOf(r));
        const delivered: DeliveredFile[] = files.map((f, i) => this.#file(f.name, spec, resolved[i] as Resolved));
        set = await this.#b.createSet(consumer, delivered, this.#setOptions(spec));
      } finally {
        for (const r of resolved) r.value.zero();
      }
      const first = files[0];
      const mountpoint = single && first ? set.filePath(first.name) : set.dir;
      if (signal.aborted) {
        // The engine gave up (Podman allows 5 s): it will never unmount what it did not get.
        set.release();
        throw new KeywayError('cancelled', `mounting volume ${name} was cancelled by the client`);
      }
      try {
        this.#o.repo.insertMount(name, id, set.id);
      } catch (e) {
        set.release();
        throw toKeywayError(e, `recording the mount of volume ${name}`);
      }
      // The baseline is the token each file was written from; a later token of another kind (a
      // provider's own) is confirmed against the content before anything is rewritten.
      const watch = this.#watch(name, id, set, spec, files.map((f, i) => ({ ...f, version: versions[i] })));
      this.#live.set(key, { volume: name, mountId: id, set, mountpoint, refcount: 1, watch });
      this.#o.logger.info({ volume: name, set: set.id, files: files.length }, 'volume mounted');
      return mountpoint;
    });
  }

  async unmount(name: string, mountId: unknown): Promise<void> {
    validateVolumeName(name);
    const id = checkMountId(mountId);
    await this.#locked(name, async () => {
      const key = this.#key(name, id);
      const live = this.#live.get(key);
      if (!live) {
        // Unknown mount: already released (Docker retries) or lost; nothing to wipe.
        this.#o.repo.deleteMount(name, id);
        return;
      }
      if (live.refcount > 1) {
        this.#o.repo.setRefcount(name, id, live.refcount - 1);
        live.refcount -= 1;
        return;
      }
      live.watch?.stop();
      await live.watch?.settled();
      live.set.release();
      this.#o.repo.deleteMount(name, id);
      this.#live.delete(key);
      this.#o.logger.info({ volume: name, set: live.set.id }, 'volume unmounted; mount set wiped');
    });
  }

  /** Number of live mount sets (tests, metrics). */
  get liveMounts(): number {
    return this.#live.size;
  }

  /**
   * One rotation check of every live mount now (the refresher also runs them on its interval):
   * each set whose content changed is rewritten atomically; a failure keeps the old content and
   * is logged. Resolves to the number of sets rewritten.
   */
  async rotate(signal: AbortSignal): Promise<number> {
    let updated = 0;
    for (const live of [...this.#live.values()]) {
      if (!live.watch || signal.aborted) continue;
      if ((await live.watch.refresh()).length > 0) updated += 1;
    }
    return updated;
  }

  #file(name: string, spec: VolumeSpec, r: Resolved): DeliveredFile {
    const mode = spec.mode ?? r.mode;
    const uid = spec.uid ?? r.uid;
    const gid = spec.gid ?? r.gid;
    return { name, bytes: r.value, ...(mode !== undefined ? { mode } : {}), ...(uid !== undefined ? { uid } : {}), ...(gid !== undefined ? { gid } : {}) };
  }

  #setOptions(spec: VolumeSpec): SetOptions {
    // A non-root reader must be able to traverse a directory volume: it owns the directory.
    if (spec.uid === undefined && spec.gid === undefined) return {};
    return {
      ...(spec.uid !== undefined ? { dirUid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { dirGid: spec.gid } : {}),
      dirMode: spec.gid !== undefined ? 0o750 : 0o700,
    };
  }
}
