// The volume model behind docker.volumedriver/1.0, independent of HTTP: explicit volumes from the
// store, named secrets as implicit volumes, and one delivery mount set per (volume, mount id).
// Docker sends a fresh random ID per mount point; Podman sends one fixed ID and counts mounts
// itself, so a repeated ID is reference-counted rather than given a second set.
import { KeywayError, toKeywayError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { validateVolumeName } from '../../core/names.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { Resolved } from '../../broker/types.js';
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
  /**
   * Targets, file names and the change token each file was written from (undefined after a
   * restart: the first rotation check then rewrites the set once from fresh values).
   */
  readonly files: { readonly name: string; readonly target: string; version: string | undefined }[];
  readonly spec: VolumeSpec | undefined;
}

export interface VolumeDriverOptions {
  readonly repo: VolumesRepo;
  readonly catalog: SecretCatalog;
  readonly logger: Logger;
  /** Version token of a resolved value (provider version, else a content HMAC). */
  readonly versionOf?: (r: Resolved) => string | undefined;
  /**
   * Checks a ref= option as `secret create --ref` does (provider exists, options known) without
   * fetching, so a typo fails `docker volume create` rather than the first container start.
   */
  readonly checkRef?: (ref: string) => void;
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
  readonly #live = new Map<string, LiveMount>();
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(opts: VolumeDriverOptions) {
    this.#o = opts;
  }

  get #b(): VolumeBackend {
    if (!this.#backend) throw new KeywayError('unavailable', 'the volume driver is not started yet');
    return this.#backend;
  }

  /** Attaches the backend and re-adopts mounts recorded by an earlier process (restart). */
  attach(backend: VolumeBackend): void {
    this.#backend = backend;
    for (const m of this.#o.repo.listMounts()) {
      const set = backend.adoptSet(m.mountSetId);
      if (!set) {
        this.#o.repo.deleteMount(m.volume, m.mountId);
        this.#o.logger.warn({ volume: m.volume, mountId: m.mountId }, 'a recorded volume mount has no mount set any more; forgetting it');
        continue;
      }
      let mountpoint = set.dir;
      let spec: VolumeSpec | undefined;
      let files: LiveMount['files'] = [];
      try {
        spec = this.#spec(m.volume);
        const v = volumeFiles(m.volume, spec);
        const first = v.files[0];
        if (v.single && first) mountpoint = set.filePath(first.name);
        files = v.files.map((f) => ({ name: f.name, target: f.target, version: undefined }));
      } catch {
        // The volume was removed behind our back: not rotated, but still released on Unmount.
        spec = undefined;
      }
      this.#live.set(this.#key(m.volume, m.mountId), { volume: m.volume, mountId: m.mountId, set, mountpoint, refcount: m.refcount, files, spec });
    }
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
      const consumer = `docker:${name}/${id.slice(0, 64)}`;
      const resolved = await this.#resolveAll(files.map((f) => f.target), consumer, signal);
      let versions: (string | undefined)[];
      let set: DeliveredSet;
      try {
        versions = resolved.map((r) => this.#o.versionOf?.(r));
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
      this.#live.set(key, {
        volume: name,
        mountId: id,
        set,
        mountpoint,
        refcount: 1,
        files: files.map((f, i) => ({ name: f.name, target: f.target, version: versions[i] })),
        spec,
      });
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
   * One rotation pass: for every live mount, asks for each file's change token and rewrites the
   * set atomically when one changed. A failure keeps the old content and is logged.
   */
  async rotate(signal: AbortSignal): Promise<number> {
    let updated = 0;
    for (const live of [...this.#live.values()]) {
      if (!live.spec || signal.aborted) continue;
      const spec = live.spec;
      try {
        await this.#locked(live.volume, async () => {
          if (this.#live.get(this.#key(live.volume, live.mountId)) !== live) return;
          const consumer = `docker:${live.volume}/${live.mountId.slice(0, 64)}`;
          const now = await Promise.all(live.files.map((f) => this.#b.version(f.target, { frontend: 'docker', consumer, signal })));
          if (now.every((v, i) => v === live.files[i]?.version)) return;
          const resolved = await this.#resolveAll(live.files.map((f) => f.target), consumer, signal, true);
          let changed: boolean;
          try {
            // The baseline from Mount is a content token; a provider's own token differs in kind, so
            // a differing token is confirmed against the content before anything is rewritten.
            changed = resolved.some((r, i) => this.#o.versionOf?.(r) !== live.files[i]?.version);
            if (changed) await live.set.update(live.files.map((f, i) => this.#file(f.name, spec, resolved[i] as Resolved)));
          } finally {
            for (const r of resolved) r.value.zero();
          }
          live.files.forEach((f, i) => (f.version = now[i]));
          if (!changed) return;
          updated += 1;
          this.#o.logger.info({ volume: live.volume, set: live.set.id }, 'volume content rotated');
        });
      } catch (e) {
        this.#o.logger.warn({ volume: live.volume, err: toKeywayError(e).toString() }, 'rotation check failed; old content kept');
      }
    }
    return updated;
  }

  async #resolveAll(targets: readonly string[], consumer: string, signal: AbortSignal, refresh = false): Promise<Resolved[]> {
    const settled = await Promise.allSettled(targets.map((t) => this.#b.resolve(t, { frontend: 'docker', consumer, signal, ...(refresh ? { refresh } : {}) })));
    const values: SecretValue[] = [];
    let failure: unknown;
    for (const s of settled) {
      if (s.status === 'fulfilled') values.push(s.value.value);
      else failure ??= s.reason;
    }
    if (failure !== undefined) {
      for (const v of values) v.zero();
      throw toKeywayError(failure);
    }
    return settled.map((s) => (s as PromiseFulfilledResult<Resolved>).value);
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
