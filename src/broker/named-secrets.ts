// Creating and removing named secrets. A literal value goes to the local provider under the new
// secret's id; a reference is checked (syntax, provider, options) but not fetched. Replacement is
// crash-safe: the new blob is written first, the record swapped in one transaction, the old blob
// removed last, so a failure at any step leaves the previous secret readable.
import { KeywayError } from '../core/errors.js';
import { checkFileMode } from '../core/file-mode.js';
import { validateSecretName } from '../core/names.js';
import { formatReference, parseReference } from '../core/reference.js';
import type { SecretValue } from '../core/secret-value.js';
import { nowIso } from '../store/db.js';
import { newId } from '../store/ids.js';
import type { AuditLog } from '../store/audit.js';
import type { SecretRecord, SecretsRepo } from '../store/secrets.js';
import { LOCAL_PROVIDER, NAMED_SECRET_PROVIDER, type Broker } from './broker.js';
import { checkLocalReference } from './local-ref.js';

export interface CreateSecretInput {
  readonly name: string;
  readonly value?: SecretValue;
  readonly ref?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly replace?: boolean;
  readonly frontend: string;
}

export class NamedSecrets {
  readonly #broker: Broker;
  readonly #secrets: SecretsRepo;
  readonly #audit: AuditLog;
  readonly #maxBytes: number;

  constructor(broker: Broker, secrets: SecretsRepo, audit: AuditLog, maxBytes: number) {
    this.#broker = broker;
    this.#secrets = secrets;
    this.#audit = audit;
    this.#maxBytes = maxBytes;
  }

  get repo(): SecretsRepo {
    return this.#secrets;
  }

  async create(input: CreateSecretInput, signal: AbortSignal): Promise<SecretRecord> {
    const name = validateSecretName(input.name);
    if (input.mode !== undefined) checkFileMode(input.mode, 'mode');
    if ((input.value === undefined) === (input.ref === undefined)) throw new KeywayError('invalid_argument', 'give exactly one of a value or a reference');
    if (!input.replace && this.#secrets.get(name)) throw new KeywayError('already_exists', `secret ${JSON.stringify(name)} already exists (use --replace to replace it)`);
    const id = newId();
    let ref: string | null = null;
    let blobId: string | null = null;
    if (input.ref !== undefined) {
      const parsed = parseReference(input.ref);
      if (parsed.provider === NAMED_SECRET_PROVIDER) {
        if (parsed.path === name) throw new KeywayError('invalid_argument', `secret ${JSON.stringify(name)} cannot refer to itself`);
        this.#broker.target(input.ref);
      } else await checkLocalReference(this.#broker.checkOptions(parsed), parsed, signal);
      ref = formatReference(parsed);
    } else if (input.value !== undefined) {
      if (input.value.length === 0) throw new KeywayError('invalid_argument', 'secret value is empty');
      if (input.value.length > this.#maxBytes) throw new KeywayError('too_large', `secret value is ${input.value.length} bytes; the limit is ${this.#maxBytes} (limits.max_secret_bytes)`);
      const local = this.#broker.registry.get(LOCAL_PROVIDER);
      if (!local.store) throw new KeywayError('unsupported', 'the local provider cannot store values');
      await local.store({ path: id, value: input.value, options: {}, signal });
      blobId = id;
    }
    const now = nowIso();
    const rec: SecretRecord = {
      id,
      name,
      ref,
      blobId,
      labels: { ...(input.labels ?? {}) },
      mode: input.mode ?? null,
      uid: input.uid ?? null,
      gid: input.gid ?? null,
      createdAt: now,
      updatedAt: now,
    };
    let old: SecretRecord | undefined;
    try {
      old = this.#secrets.put(rec, input.replace === true);
    } catch (e) {
      if (blobId) await this.#dropBlob(blobId, signal);
      this.#audit.record({ action: 'create', frontend: input.frontend, subject: name, outcome: 'error', code: (e as KeywayError).code ?? 'internal' });
      throw e;
    }
    if (old?.blobId) await this.#dropBlob(old.blobId, signal);
    this.#audit.record({ action: old ? 'replace' : 'create', frontend: input.frontend, subject: name, provider: ref ? parseReference(ref).provider : LOCAL_PROVIDER, outcome: 'ok' });
    return this.#secrets.get(name) ?? rec;
  }

  async remove(name: string, frontend: string, signal: AbortSignal): Promise<SecretRecord> {
    const old = this.#secrets.delete(validateSecretName(name));
    if (!old) throw new KeywayError('not_found', `no secret named ${JSON.stringify(name)}`);
    if (old.blobId) await this.#dropBlob(old.blobId, signal);
    this.#audit.record({ action: 'rm', frontend, subject: name, outcome: 'ok' });
    return old;
  }

  async #dropBlob(blobId: string, signal: AbortSignal): Promise<void> {
    if (this.#secrets.blobInUse(blobId)) return;
    try {
      await this.#broker.registry.get(LOCAL_PROVIDER).delete?.({ path: blobId, options: {}, signal });
    } catch {
      // An orphaned ciphertext is harmless; the record change already happened.
    }
  }
}
