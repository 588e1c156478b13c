// The four operations behind Podman's shell driver (and the stateful ops of the podman-plugin
// protocol), keyed on Podman's secret id. A literal value becomes a local ciphertext blob; a
// reference is validated (syntax, provider exists, options) and stored as text, fetched through the
// broker at every lookup. Writes are ordered so a failure leaves the previous state intact: blob
// first, then the record; on delete the record first, then the blob.
import { KeywayError, toKeywayError } from '../../core/errors.js';
import type { ProviderRequest, StoreRequest } from '../../core/provider.js';
import type { SecretValue } from '../../core/secret-value.js';
import type { Resolver } from '../../broker/types.js';
import type { PodmanSecretRecord } from '../../store/podman-secrets.js';
import { blobIdFor, validatePodmanId } from './ids.js';
import { checkPodmanSize, referenceIn } from './payload.js';

/** The subset of PodmanSecretsRepo the driver uses. */
export interface PodmanRecords {
  get(id: string): PodmanSecretRecord | undefined;
  insert(rec: PodmanSecretRecord): void;
  delete(id: string): PodmanSecretRecord | undefined;
  ids(): string[];
}

/** Where literal values go: the local provider. */
export interface BlobStore {
  store(req: StoreRequest): Promise<void>;
  delete?(req: ProviderRequest): Promise<void>;
}

export interface AuditSink {
  (entry: { action: string; subject: string; outcome: 'ok' | 'error'; code?: string; provider?: string }): void;
}

export interface PodmanDriverDeps {
  readonly records: PodmanRecords;
  readonly resolver: Resolver;
  /** The provider that encrypts literal values (created lazily: lookups of references never need it). */
  readonly blobs: () => BlobStore;
  /** Name of that provider in references (`ref+<name>://<blob id>`). */
  readonly blobProvider: string;
  /** Validates a reference (parse, provider exists, options) and returns its canonical form. */
  readonly checkRef: (ref: string) => string;
  readonly audit?: AuditSink;
  /** `frontend` in audit entries and workload identities. */
  readonly frontend?: string;
  readonly now?: () => string;
}

export interface StoreOptions {
  /** A reference given out of band (plugin DriverOpts `ref`): the payload must then be empty. */
  readonly ref?: string;
}

export class PodmanDriver {
  readonly #d: PodmanDriverDeps;

  constructor(deps: PodmanDriverDeps) {
    this.#d = deps;
  }

  get #frontend(): string {
    return this.#d.frontend ?? 'podman';
  }

  /** Keeps `value` for `id`; takes ownership of `value` and zeroes it. */
  async store(rawId: string | undefined, value: SecretValue, signal: AbortSignal, opts: StoreOptions = {}): Promise<PodmanSecretRecord> {
    try {
      const id = validatePodmanId(rawId);
      let ref: string | undefined;
      if (opts.ref !== undefined) {
        // Podman insists on some data, so a lone newline or blank placeholder is accepted and dropped.
        if (value.expose().some((b) => b !== 0x0a && b !== 0x0d && b !== 0x20 && b !== 0x09)) {
          throw new KeywayError('invalid_argument', 'the payload must be empty (or blank) when the reference is given as an option');
        }
        ref = opts.ref;
      } else {
        checkPodmanSize(value.length);
        ref = referenceIn(value);
      }
      if (this.#d.records.get(id)) throw new KeywayError('already_exists', `podman secret ${id} already exists in keyway`);
      const createdAt = (this.#d.now ?? (() => new Date().toISOString()))();
      let rec: PodmanSecretRecord;
      if (ref !== undefined) {
        rec = { id, ref: this.#d.checkRef(ref), blobId: null, createdAt };
        this.#d.records.insert(rec);
      } else {
        const blobId = blobIdFor(id);
        const blobs = this.#d.blobs();
        await blobs.store({ path: blobId, value, options: {}, signal });
        rec = { id, ref: null, blobId, createdAt };
        try {
          this.#d.records.insert(rec);
        } catch (e) {
          await this.#dropBlob(blobId, signal);
          throw e;
        }
      }
      this.#audit('store', id, 'ok', rec.ref !== null ? providerOf(rec.ref) : this.#d.blobProvider);
      return rec;
    } catch (e) {
      const err = toKeywayError(e, 'podman store');
      this.#audit('store', rawId ?? '', 'error', undefined, err.code);
      throw err;
    } finally {
      value.zero();
    }
  }

  /** The exact bytes for `id`; the caller owns (and zeroes) the result. */
  async lookup(rawId: string | undefined, signal: AbortSignal): Promise<SecretValue> {
    const id = validatePodmanId(rawId);
    const rec = this.#d.records.get(id);
    if (!rec) throw new KeywayError('not_found', `no podman secret ${id} in keyway`);
    const target = rec.ref ?? `ref+${this.#d.blobProvider}://${rec.blobId ?? ''}`;
    const r = await this.#d.resolver.resolve(target, { identity: { frontend: this.#frontend, consumer: `podman-secret:${id}` }, signal });
    return r.value;
  }

  async delete(rawId: string | undefined, signal: AbortSignal): Promise<PodmanSecretRecord> {
    try {
      const id = validatePodmanId(rawId);
      const old = this.#d.records.delete(id);
      if (!old) throw new KeywayError('not_found', `no podman secret ${id} in keyway`);
      if (old.blobId !== null) await this.#dropBlob(old.blobId, signal);
      this.#audit('delete', id, 'ok');
      return old;
    } catch (e) {
      const err = toKeywayError(e, 'podman delete');
      this.#audit('delete', rawId ?? '', 'error', undefined, err.code);
      throw err;
    }
  }

  list(): string[] {
    return this.#d.records.ids();
  }

  async #dropBlob(blobId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.#d.blobs().delete?.({ path: blobId, options: {}, signal });
    } catch {
      // An orphaned ciphertext is unreadable without its record and harmless; the record change stands.
    }
  }

  #audit(action: string, id: string, outcome: 'ok' | 'error', provider?: string, code?: string): void {
    try {
      this.#d.audit?.({ action: `podman.${action}`, subject: id ? `podman:${id.slice(0, 64)}` : 'podman:(empty id)', outcome, ...(provider ? { provider } : {}), ...(code ? { code } : {}) });
    } catch {
      // Auditing must not turn a finished store or delete into a failure.
    }
  }
}

function providerOf(ref: string): string {
  return ref.slice('ref+'.length, ref.indexOf('://'));
}
