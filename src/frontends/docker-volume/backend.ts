// The narrow interfaces the volume driver needs from the layers below it: a way to resolve a
// NAME or REF to bytes, a way to deliver bytes as a mount set, and the catalog of named secrets
// (which are implicit volumes). The daemon wires the broker and delivery mount sets in; tests
// can wire small in-memory versions to exercise the protocol alone.
import type { SecretValue } from '../../core/secret-value.js';
import type { ResolveContext, Resolved } from '../../broker/types.js';
import type { RefreshableSet } from '../../delivery/refresher.js';

export interface DeliveredFile {
  readonly name: string;
  /** Borrowed: the caller zeroes it. */
  readonly bytes: SecretValue;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface SetOptions {
  readonly dirMode?: number;
  readonly dirUid?: number;
  readonly dirGid?: number;
}

/** A delivered set; rotation swaps its content through delivery's refresher (RefreshableSet). */
export interface DeliveredSet extends RefreshableSet {
  /** The set's directory (what a multi-secret volume mounts). */
  readonly dir: string;
  /** Path of one file in the set (what a single-secret volume mounts). */
  filePath(name: string): string;
  /** Wipes and removes the set. Idempotent. */
  release(): void;
}

/** Resolving takes the broker's ResolveContext, so the refresher uses a backend as its resolver as it is. */
export interface VolumeBackend {
  resolve(target: string, ctx: ResolveContext): Promise<Resolved>;
  /** Every target, all or nothing, in order (the broker's resolveMany). */
  resolveMany(targets: readonly string[], ctx: ResolveContext): Promise<Resolved[]>;
  /** Cheap change token for rotation. */
  version(target: string, ctx: ResolveContext): Promise<string>;
  createSet(consumer: string, files: readonly DeliveredFile[], opts: SetOptions): Promise<DeliveredSet>;
  /** The change token a resolved value was written from (provider version, else content HMAC). */
  versionOf(r: Resolved): string | undefined;
  /** A set an earlier keyway process created and delivery took over (restart), or undefined when it is gone. */
  adoptSet(id: string): DeliveredSet | undefined;
}

export interface SecretCatalog {
  /** Creation time (RFC 3339) of a named secret, or undefined when there is none. */
  createdAt(name: string): string | undefined;
  names(): string[];
}
