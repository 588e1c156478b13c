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

/** One live set, as its owner sees it. Created by MountSetManager.create or adopt. */
export interface MountSet {
  readonly id: string;
  readonly consumer: string;
  /** The directory to hand to a consumer (bind mount, CREDENTIALS_DIRECTORY). */
  readonly dir: string;
  readonly released: boolean;
  readonly files: readonly MountSetFileSpec[];
  /**
   * The path of one file: `<set>/<name>`, a symlink to `..data/<name>`. Bind-mounting it as a single
   * file (Docker's single-secret volumes) works because mount(2) resolves the symlink; such a bind
   * mount pins that version's inode, so rotation reaches it only through the owner's onRotate hook.
   */
  filePath(name: string): string;
  /** Reads the current bytes of one file (for a refresher that swaps only some files). */
  read(name: string): SecretValue;
  /** Atomically replaces the whole content. On failure the previous version stays in place. */
  update(files: readonly MountSetFile[]): Promise<void>;
  /** Overwrites every file with zeros, removes the directory and the record. Idempotent. */
  release(): void;
}

/** What every set of one manager shares; private to this module. */
interface Shared {
  readonly root: MountRootInfo;
  readonly repo: MountSetsRepo;
  readonly logger: Logger;
  readonly selinux: SelinuxMode;
  readonly ramfsMaxBytes: number;
  readonly live: Map<string, LiveSet>;
}

function normalize(files: readonly MountSetFile[]): MountSetFileSpec[] {
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

function specOf(files: readonly MountSetFileSpec[], level?: string): MountSetSpec {
  const start = processStartTime(process.pid);
  return { files, ...(start !== undefined ? { ownerStart: start } : {}), ...(level !== undefined ? { selinuxLevel: level } : {}) };
}

/** The mount root must still be what it was at start-up, with room on a ramfs for the new bytes. */
function checkWrite(sh: Shared, files: readonly MountSetFile[]): void {
  verifyMountRoot(sh.root);
  checkRamfsRoom(sh.root, sh.ramfsMaxBytes, files.reduce((n, f) => n + f.bytes.length, 0));
}

function labeller(sh: Shared, level: string | undefined): ((path: string) => Promise<void>) | undefined {
  if (sh.selinux === 'disabled') return undefined;
  return (path) => labelContainerFile(path, level);
}

/** A recorded set lies directly under this root, named by its id; anything else is not ours. */
function underRoot(sh: Shared, rec: Pick<MountSetRecord, 'id' | 'path'>): boolean {
  return dirname(rec.path) === sh.root.path && rec.path === join(sh.root.path, rec.id);
}

class LiveSet implements MountSet {
  readonly id: string;
  readonly consumer: string;
  readonly dir: string;
  #files: MountSetFileSpec[];
  #released = false;
  readonly #sh: Shared;
  readonly #owner: DirOwner;
  readonly #level: string | undefined;

  constructor(sh: Shared, id: string, consumer: string, dir: string, files: MountSetFileSpec[], owner: DirOwner, level: string | undefined) {
    this.#sh = sh;
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

  filePath(name: string): string {
    validateFileName(name);
    if (!this.#files.some((f) => f.name === name)) throw new KeywayError('not_found', `mount set ${this.id} has no file ${JSON.stringify(name)}`);
    return join(this.dir, name);
  }

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

  async update(files: readonly MountSetFile[]): Promise<void> {
    if (this.#released) throw new KeywayError('failed_precondition', `mount set ${this.id} was released`);
    const specs = normalize(files);
    checkWrite(this.#sh, files);
    await publish(this.dir, toWrite(files, specs), this.#owner, labeller(this.#sh, this.#level));
    const changed = JSON.stringify(specs) !== JSON.stringify(this.#files);
    this.#files = specs;
    // A plain rotation keeps names, modes and owners: no need to touch the store.
    if (changed) this.#sh.repo.updateSpec(this.id, specOf(specs, this.#level));
  }

  release(): void {
    if (this.#released) return;
    destroySetDir(this.dir);
    this.#sh.repo.delete(this.id);
    this.#released = true;
    this.#sh.live.delete(this.id);
  }
}

function toWrite(files: readonly MountSetFile[], specs: readonly MountSetFileSpec[]): FileToWrite[] {
  return files.map((f, i) => {
    const s = specs[i] as MountSetFileSpec;
    return { name: s.name, bytes: f.bytes, mode: s.mode, uid: s.uid, gid: s.gid };
  });
}

export class MountSetManager {
  readonly #sh: Shared;

  constructor(opts: MountSetManagerOptions) {
    this.#sh = {
      root: opts.root,
      repo: opts.repo,
      logger: opts.logger,
      selinux: opts.selinux ?? selinuxMode(),
      ramfsMaxBytes: opts.ramfsMaxBytes ?? DEFAULT_RAMFS_MAX_BYTES,
      live: new Map(),
    };
  }

  get root(): MountRootInfo {
    return this.#sh.root;
  }

  get selinux(): SelinuxMode {
    return this.#sh.selinux;
  }

  get live(): readonly MountSet[] {
    return [...this.#sh.live.values()];
  }

  async create(consumer: string, files: readonly MountSetFile[], opts: CreateOptions = {}): Promise<MountSet> {
    if (typeof consumer !== 'string' || consumer.length === 0 || consumer.length > 512) throw new KeywayError('invalid_argument', 'mount set consumer must be 1-512 characters');
    const sh = this.#sh;
    const specs = normalize(files);
    const owner: DirOwner = {
      mode: checkFileMode(opts.dirMode ?? DEFAULT_DIR_MODE, 'directory mode'),
      uid: checkId(opts.dirUid ?? process.geteuid?.() ?? 0, 'directory uid'),
      gid: checkId(opts.dirGid ?? process.getegid?.() ?? 0, 'directory gid'),
    };
    if (opts.selinuxLevel !== undefined) validateMcsLevel(opts.selinuxLevel);
    checkWrite(sh, files);
    const id = newId();
    const dir = join(sh.root.path, id);
    const ownerPid = opts.ownerPid ?? process.pid;
    const start = processStartTime(ownerPid);
    // Record first: a crash between here and the end leaves something the sweep can find.
    const level = opts.selinuxLevel !== undefined ? { selinuxLevel: opts.selinuxLevel } : {};
    sh.repo.insert({ id, consumer, path: dir, ownerPid, spec: { files: specs, ...(start !== undefined ? { ownerStart: start } : {}), ...level } });
    try {
      createSetDir(dir, owner);
      await publish(dir, toWrite(files, specs), owner, labeller(sh, opts.selinuxLevel));
    } catch (e) {
      try {
        destroySetDir(dir);
      } catch (cleanup) {
        sh.logger.error({ set: id, err: toKeywayError(cleanup).message }, 'cleanup of a failed mount set failed');
      }
      sh.repo.delete(id);
      throw e;
    }
    const set = new LiveSet(sh, id, consumer, dir, specs, owner, opts.selinuxLevel);
    sh.live.set(id, set);
    sh.logger.debug({ set: id, consumer, files: specs.map((f) => f.name) }, 'mount set created');
    return set;
  }

  /**
   * Takes over a set an earlier process recorded (a restart while containers still use it), so it
   * can be rotated and released like one this process created: the record is claimed for this
   * process first, so no orphan sweep (ours or another keyway's) wipes it. The record must place
   * the set directly under this root, and the path must still be a real directory (not a planted
   * symlink), whose own mode and owner are kept for later updates. A record whose directory is gone
   * with the tmpfs (a reboot) is forgotten. Undefined when there is no such set, or it is not ours.
   * Idempotent: a set already live here is returned as it is.
   */
  adopt(id: string): MountSet | undefined {
    const sh = this.#sh;
    const known = sh.live.get(id);
    if (known) return known;
    const rec = sh.repo.get(id);
    if (!rec || !underRoot(sh, rec)) return undefined;
    let st;
    try {
      st = lstatSync(rec.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') sh.repo.delete(id);
      return undefined;
    }
    if (!st.isDirectory()) return undefined;
    if (!sh.repo.claim(id, process.pid, processStartTime(process.pid))) return undefined;
    const owner: DirOwner = { mode: st.mode & 0o777, uid: st.uid, gid: st.gid };
    const level = typeof rec.spec.selinuxLevel === 'string' ? rec.spec.selinuxLevel : undefined;
    const set = new LiveSet(sh, rec.id, rec.consumer, rec.path, [...rec.spec.files], owner, level);
    sh.live.set(rec.id, set);
    sh.logger.debug({ set: id, consumer: rec.consumer }, 'mount set adopted');
    return set;
  }

  /** Releases every set this manager created (shutdown). */
  releaseAll(): void {
    for (const s of this.live) {
      try {
        s.release();
      } catch (e) {
        this.#sh.logger.error({ set: s.id, err: toKeywayError(e).message }, 'mount set release failed');
      }
    }
  }

  /**
   * Removes sets whose owner process is gone (crash, SIGKILL): files wiped, directory and record
   * removed. Sets of live owners are left alone, and so are sets `only` does not select (another
   * kind of owner, such as the daemon's volumes, which it adopts on restart). Returns the ids swept.
   */
  sweepOrphans(only: (consumer: string) => boolean = () => true): string[] {
    const sh = this.#sh;
    const swept: string[] = [];
    for (const rec of sh.repo.list()) {
      if (sh.live.has(rec.id) || !only(rec.consumer)) continue;
      if (rec.ownerPid !== null && isSameProcessAlive(rec.ownerPid, rec.spec.ownerStart)) continue;
      if (!underRoot(sh, rec)) {
        // Recorded under another runtime dir: not ours to touch; the instance using it sweeps it.
        continue;
      }
      try {
        destroySetDir(rec.path);
      } catch (e) {
        sh.logger.error({ set: rec.id, err: toKeywayError(e).message }, 'sweeping an orphaned mount set failed');
        continue;
      }
      sh.repo.delete(rec.id);
      swept.push(rec.id);
    }
    if (swept.length > 0) sh.logger.info({ sets: swept }, 'swept orphaned mount sets');
    return swept;
  }
}
