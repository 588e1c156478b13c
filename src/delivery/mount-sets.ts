// Mount sets: one private directory of secret files per consumer (a container, a `keyway run`
// child, a pod volume) on the mount root. Every live set is recorded in the store with its owner
// pid before anything is written, so a crash at any point leaves a record the next start can sweep.
import { closeSync, constants as fsc, lstatSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeywayError, toKeywayError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { checkFileMode } from '../core/file-mode.js';
import { validateFileName } from '../core/names.js';
import { SecretValue } from '../core/secret-value.js';
import { newId } from '../store/ids.js';
import type { MountSetFileSpec, MountSetRecord, MountSetsRepo, MountSetSpec } from '../store/mount-sets.js';
import { createSetDir, currentPayload, destroySetDir, publish, type DirOwner, type FileToWrite } from './atomic-writer.js';
import { at, openDirNoFollow } from './fd-mount.js';
import { verifyMountRoot, type MountRootInfo } from './mount-root.js';
import { isSameProcessAlive, processStartTime } from './process-identity.js';
import { checkRamfsRoom, DEFAULT_RAMFS_MAX_BYTES } from './ramfs-cap.js';
import { labelContainerFile, selinuxMode, validateMcsLevel, type SelinuxMode } from './selinux.js';

export const DEFAULT_FILE_MODE = 0o400;
export const DEFAULT_DIR_MODE = 0o700;

export interface MountSetFile {
  readonly name: string;
  /** Borrowed: the caller still owns it and zeroes it. */
  readonly bytes: SecretValue;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface CreateOptions {
  /** Mode of the set dir and payload dirs (0700; 0750/0755 when another uid must traverse). */
  readonly dirMode?: number;
  /** Owner of the dirs; defaults to keyway's own uid/gid. */
  readonly dirUid?: number;
  readonly dirGid?: number;
  /** MCS level such as `s0:c1,c2` when SELinux is on (per-consumer isolation, like Podman's :Z). */
  readonly selinuxLevel?: string;
  /** The process whose death makes this set an orphan (default: this process). */
  readonly ownerPid?: number;
}

export interface MountSetManagerOptions {
  readonly root: MountRootInfo;
  readonly repo: MountSetsRepo;
  readonly logger: Logger;
  /** Override for tests; default reads /sys/fs/selinux. */
  readonly selinux?: SelinuxMode;
  /** Total bytes allowed on a ramfs root (it has no size limit of its own); default 64 MiB. */
  readonly ramfsMaxBytes?: number;
}

function checkId(id: number, what: string): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) throw new KeywayError('invalid_argument', `${what} ${String(id)} is not a valid numeric id`);
  return id;
}

export class MountSet {
  readonly id: string;
  readonly consumer: string;
  /** The directory to hand to a consumer (bind mount, CREDENTIALS_DIRECTORY). */
  readonly dir: string;
  #files: MountSetFileSpec[];
  #released = false;
  readonly #manager: MountSetManager;
  readonly #owner: DirOwner;
  readonly #level: string | undefined;

  /** @internal created by MountSetManager */
  constructor(manager: MountSetManager, id: string, consumer: string, dir: string, files: MountSetFileSpec[], owner: DirOwner, level: string | undefined) {
    this.#manager = manager;
    this.id = id;
    this.consumer = consumer;
    this.dir = dir;
    this.#files = files;
    this.#owner = owner;
    this.#level = level;
  }

  get released(): boolean {
    return this.#released;
  }

  get files(): readonly MountSetFileSpec[] {
    return this.#files;
  }

  /**
   * The path of one file: `<set>/<name>`, a symlink to `..data/<name>`. Bind-mounting it as a single
   * file (Docker's single-secret volumes) works because mount(2) resolves the symlink; such a bind
   * mount pins that version's inode, so rotation reaches it only through the owner's onRotate hook.
   */
  filePath(name: string): string {
    validateFileName(name);
    if (!this.#files.some((f) => f.name === name)) throw new KeywayError('not_found', `mount set ${this.id} has no file ${JSON.stringify(name)}`);
    return join(this.dir, name);
  }

  /** Reads the current bytes of one file (for a refresher that swaps only some files). */
  read(name: string): SecretValue {
    validateFileName(name);
    // Not through `..data` by name: a consumer that owns the set dir could point it anywhere.
    const payload = currentPayload(this.dir);
    if (payload === undefined) throw new KeywayError('not_found', `mount set ${this.id} has no content yet`);
    const pd = openDirNoFollow(join(this.dir, payload), `payload of mount set ${this.id}`);
    try {
      const fd = openSync(at(pd.fd, name), fsc.O_RDONLY | fsc.O_NOFOLLOW);
      try {
        return SecretValue.adopt(readFileSync(fd));
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      throw toKeywayError(e, `cannot read ${name} of mount set ${this.id}`);
    } finally {
      closeSync(pd.fd);
    }
  }

  /** Atomically replaces the whole content. On failure the previous version stays in place. */
  async update(files: readonly MountSetFile[]): Promise<void> {
    if (this.#released) throw new KeywayError('failed_precondition', `mount set ${this.id} was released`);
    const specs = this.#manager.normalize(files);
    this.#manager.checkRoot();
    this.#manager.checkRoom(files);
    await publish(this.dir, toWrite(files, specs), this.#owner, this.#manager.labeller(this.#level));
    const changed = JSON.stringify(specs) !== JSON.stringify(this.#files);
    this.#files = specs;
    // A plain rotation keeps names, modes and owners: no need to touch the store.
    if (changed) this.#manager.repo.updateSpec(this.id, this.#manager.specOf(specs, this.#level));
  }

  /** Overwrites every file with zeros, removes the directory and the record. Idempotent. */
  release(): void {
    if (this.#released) return;
    destroySetDir(this.dir);
    this.#manager.repo.delete(this.id);
    this.#released = true;
    this.#manager.forget(this);
  }
}

function toWrite(files: readonly MountSetFile[], specs: readonly MountSetFileSpec[]): FileToWrite[] {
  return files.map((f, i) => {
    const s = specs[i] as MountSetFileSpec;
    return { name: s.name, bytes: f.bytes, mode: s.mode, uid: s.uid, gid: s.gid };
  });
}

export class MountSetManager {
  readonly root: MountRootInfo;
  readonly repo: MountSetsRepo;
  readonly #logger: Logger;
  readonly #selinux: SelinuxMode;
  readonly #live = new Map<string, MountSet>();
  readonly #ramfsMaxBytes: number;

  constructor(opts: MountSetManagerOptions) {
    this.root = opts.root;
    this.#ramfsMaxBytes = opts.ramfsMaxBytes ?? DEFAULT_RAMFS_MAX_BYTES;
    this.repo = opts.repo;
    this.#logger = opts.logger;
    this.#selinux = opts.selinux ?? selinuxMode();
  }

  get selinux(): SelinuxMode {
    return this.#selinux;
  }

  get live(): readonly MountSet[] {
    return [...this.#live.values()];
  }

  /** @internal */
  normalize(files: readonly MountSetFile[]): MountSetFileSpec[] {
    const seen = new Set<string>();
    return files.map((f) => {
      const name = validateFileName(f.name);
      if (seen.has(name)) throw new KeywayError('invalid_argument', `file name ${JSON.stringify(name)} appears twice in one mount set`);
      seen.add(name);
      if (!(f.bytes instanceof SecretValue)) throw new KeywayError('internal', 'mount set file bytes must be a SecretValue');
      return {
        name,
        mode: checkFileMode(f.mode ?? DEFAULT_FILE_MODE, `mode of ${name}`),
        uid: checkId(f.uid ?? process.geteuid?.() ?? 0, `uid of ${name}`),
        gid: checkId(f.gid ?? process.getegid?.() ?? 0, `gid of ${name}`),
      };
    });
  }

  /** @internal */
  specOf(files: readonly MountSetFileSpec[], level?: string): MountSetSpec {
    const start = processStartTime(process.pid);
    return { files, ...(start !== undefined ? { ownerStart: start } : {}), ...(level !== undefined ? { selinuxLevel: level } : {}) };
  }

  /** @internal the mount root must still be what it was at start-up. */
  checkRoot(): void {
    verifyMountRoot(this.root);
  }

  /** @internal refuses a write that would pass the cap of a ramfs root. */
  checkRoom(files: readonly MountSetFile[]): void {
    checkRamfsRoom(this.root, this.#ramfsMaxBytes, files.reduce((n, f) => n + f.bytes.length, 0));
  }

  /** @internal */
  labeller(level: string | undefined): ((path: string) => Promise<void>) | undefined {
    if (this.#selinux === 'disabled') return undefined;
    return (path) => labelContainerFile(path, level);
  }

  /** @internal */
  forget(set: MountSet): void {
    this.#live.delete(set.id);
  }

  async create(consumer: string, files: readonly MountSetFile[], opts: CreateOptions = {}): Promise<MountSet> {
    if (typeof consumer !== 'string' || consumer.length === 0 || consumer.length > 512) throw new KeywayError('invalid_argument', 'mount set consumer must be 1-512 characters');
    const specs = this.normalize(files);
    const owner: DirOwner = {
      mode: checkFileMode(opts.dirMode ?? DEFAULT_DIR_MODE, 'directory mode'),
      uid: checkId(opts.dirUid ?? process.geteuid?.() ?? 0, 'directory uid'),
      gid: checkId(opts.dirGid ?? process.getegid?.() ?? 0, 'directory gid'),
    };
    if (opts.selinuxLevel !== undefined) validateMcsLevel(opts.selinuxLevel);
    this.checkRoot();
    this.checkRoom(files);
    const id = newId();
    const dir = join(this.root.path, id);
    const ownerPid = opts.ownerPid ?? process.pid;
    const start = processStartTime(ownerPid);
    // Record first: a crash between here and the end leaves something the sweep can find.
    const level = opts.selinuxLevel !== undefined ? { selinuxLevel: opts.selinuxLevel } : {};
    this.repo.insert({ id, consumer, path: dir, ownerPid, spec: { files: specs, ...(start !== undefined ? { ownerStart: start } : {}), ...level } });
    try {
      createSetDir(dir, owner);
      await publish(dir, toWrite(files, specs), owner, this.labeller(opts.selinuxLevel));
    } catch (e) {
      try {
        destroySetDir(dir);
      } catch (cleanup) {
        this.#logger.error({ set: id, err: toKeywayError(cleanup).message }, 'cleanup of a failed mount set failed');
      }
      this.repo.delete(id);
      throw e;
    }
    const set = new MountSet(this, id, consumer, dir, specs, owner, opts.selinuxLevel);
    this.#live.set(id, set);
    this.#logger.debug({ set: id, consumer, files: specs.map((f) => f.name) }, 'mount set created');
    return set;
  }

  /**
   * Re-attaches a set an earlier process recorded (a restart while containers still use it), so it
   * can be rotated and released like one this process created. The record must place the set
   * directly under this root, and the path must still be a real directory (not a planted symlink):
   * the directory's own mode and owner are kept for later updates. Undefined when it is not ours.
   */
  adopt(rec: MountSetRecord): MountSet | undefined {
    const known = this.#live.get(rec.id);
    if (known) return known;
    if (dirname(rec.path) !== this.root.path || rec.path !== join(this.root.path, rec.id)) return undefined;
    let st;
    try {
      st = lstatSync(rec.path);
    } catch {
      return undefined;
    }
    if (!st.isDirectory()) return undefined;
    const owner: DirOwner = { mode: st.mode & 0o777, uid: st.uid, gid: st.gid };
    const level = typeof rec.spec.selinuxLevel === 'string' ? rec.spec.selinuxLevel : undefined;
    const set = new MountSet(this, rec.id, rec.consumer, rec.path, [...rec.spec.files], owner, level);
    this.#live.set(rec.id, set);
    return set;
  }

  /** Releases every set this manager created (shutdown). */
  releaseAll(): void {
    for (const s of this.live) {
      try {
        s.release();
      } catch (e) {
        this.#logger.error({ set: s.id, err: toKeywayError(e).message }, 'mount set release failed');
      }
    }
  }

  /**
   * Removes sets whose owner process is gone (crash, SIGKILL): files wiped, directory and record
   * removed. Sets of live owners are left alone, and so are sets `only` does not select (another
   * kind of owner, such as the daemon's volumes, which it adopts on restart). Returns the ids swept.
   */
  sweepOrphans(only: (consumer: string) => boolean = () => true): string[] {
    const swept: string[] = [];
    for (const rec of this.repo.list()) {
      if (this.#live.has(rec.id) || !only(rec.consumer)) continue;
      if (rec.ownerPid !== null && isSameProcessAlive(rec.ownerPid, rec.spec.ownerStart)) continue;
      if (dirname(rec.path) !== this.root.path || rec.path !== join(this.root.path, rec.id)) {
        // Recorded under another runtime dir: not ours to touch; the instance using it sweeps it.
        continue;
      }
      try {
        destroySetDir(rec.path);
      } catch (e) {
        this.#logger.error({ set: rec.id, err: toKeywayError(e).message }, 'sweeping an orphaned mount set failed');
        continue;
      }
      this.repo.delete(rec.id);
      swept.push(rec.id);
    }
    if (swept.length > 0) this.#logger.info({ sets: swept }, 'swept orphaned mount sets');
    return swept;
  }
}
