// `local`: values encrypted at rest in keyway's own SQLite (AES-256-GCM, key file 0600).
// Paths are blob ids; named secrets created from literal values use the secret id as blob id.
import { join } from 'node:path';
import { KeywayError, throwIfAborted } from '../../core/errors.js';
import type { ListRequest, Provider, ProviderRequest, StoreRequest } from '../../core/provider.js';
import type { SecretValue } from '../../core/secret-value.js';
import { BlobsRepo } from '../../store/blobs.js';
import { defineProvider } from '../factory.js';
import { BaseProvider } from '../kit/base.js';
import { absolutePath, z } from '../kit/options.js';
import { open, seal } from './cipher.js';
import { readKeyFile, readOrCreateKeyFile, type LocalKey } from './key-file.js';

const BLOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export class LocalProvider extends BaseProvider implements Provider {
  readonly #blobs: BlobsRepo;
  readonly #keyPath: string;
  #key: LocalKey | undefined;

  constructor(name: string, blobs: BlobsRepo, keyPath: string) {
    super('local', name, []);
    this.#blobs = blobs;
    this.#keyPath = keyPath;
  }

  get keyPath(): string {
    return this.#keyPath;
  }

  #checkId(path: string): string {
    if (!BLOB_ID_RE.test(path)) throw new KeywayError('invalid_argument', `${this.where}: blob id ${JSON.stringify(path.slice(0, 64))} is invalid (expected [A-Za-z0-9_.:-], up to 128 chars)`);
    return path;
  }

  #readKey(): LocalKey {
    if (this.#key) return this.#key;
    const k = readKeyFile(this.#keyPath);
    if (!k) throw new KeywayError('failed_precondition', `${this.where}: key file ${this.#keyPath} does not exist, so stored values cannot be decrypted (restore it from backup)`);
    this.#key = k;
    return k;
  }

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    throwIfAborted(req.signal, `${this.where}: lookup`);
    const id = this.#checkId(req.path);
    const blob = this.#blobs.get(id);
    if (!blob) throw new KeywayError('not_found', `${this.where}: no stored value ${JSON.stringify(id)}`);
    const key = this.#readKey();
    if (blob.keyId !== key.id) {
      throw new KeywayError('failed_precondition', `${this.where}: value ${JSON.stringify(id)} was encrypted with key ${blob.keyId}, but key file ${this.#keyPath} holds key ${key.id}`);
    }
    return open(key.key, id, blob);
  }

  async version(req: ProviderRequest): Promise<string> {
    const blob = this.#blobs.get(this.#checkId(req.path));
    if (!blob) throw new KeywayError('not_found', `${this.where}: no stored value ${JSON.stringify(req.path)}`);
    return blob.nonce.toString('hex');
  }

  async store(req: StoreRequest): Promise<void> {
    throwIfAborted(req.signal, `${this.where}: store`);
    const id = this.#checkId(req.path);
    const key = this.#key ?? readOrCreateKeyFile(this.#keyPath);
    this.#key = key;
    this.#blobs.put({ id, keyId: key.id, ...seal(key.key, id, req.value) });
  }

  async delete(req: ProviderRequest): Promise<void> {
    if (!this.#blobs.delete(this.#checkId(req.path))) throw new KeywayError('not_found', `${this.where}: no stored value ${JSON.stringify(req.path)}`);
  }

  async list(req: ListRequest): Promise<string[]> {
    return this.#blobs.ids(req.prefix);
  }

  async close(): Promise<void> {
    this.#key?.key.fill(0);
    this.#key = undefined;
  }
}

export function defaultKeyPath(stateDir: string): string {
  return join(stateDir, 'local.key');
}

export const localFactory = defineProvider({
  type: 'local',
  description: 'values encrypted at rest in keyway\'s store (AES-256-GCM, key file 0600)',
  options: () => z.strictObject({ key_file: absolutePath().optional() }),
  usableWithoutConfig: true,
  create(name, config, deps) {
    return new LocalProvider(name, new BlobsRepo(deps.db), config.key_file ?? defaultKeyPath(deps.stateDir));
  },
});
