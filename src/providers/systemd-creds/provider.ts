// `systemd-creds`: encrypted credential files (host key and/or TPM2) decrypted by the real
// `systemd-creds decrypt`, so keys never pass through keyway. A reference names a credential
// (`db-password`, found as NAME.cred or NAME in the credential directories) or, when allowed, an
// absolute file path. The embedded credential name is checked as systemd does; `?name=` overrides
// it for files encrypted under another name.
import { randomBytes } from 'node:crypto';
import { readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import type { ListRequest, Provider, ProviderRequest, StoreRequest } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import type { Captured } from '../../core/process/capture.js';
import { ToolProvider, type ToolSettings } from '../kit/tool.js';

const MAX_CREDENTIAL_BYTES = 16 * 1024 * 1024;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@:+-]{0,254}$/;

export interface SystemdCredsSettings extends ToolSettings {
  /** Searched in order; new credentials are written to the first. */
  readonly dirs: readonly string[];
  readonly hostKeyFile?: string;
  readonly withKey: string;
  readonly allowAnyPath: boolean;
}

interface Target {
  readonly file: string;
  readonly name: string;
}

export class SystemdCredsProvider extends ToolProvider<SystemdCredsSettings> implements Provider {
  constructor(name: string, settings: SystemdCredsSettings) {
    super('systemd-creds', name, ['name'], settings);
  }

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const t = this.#find(req.path, req.options);
    const r = await this.#run(['decrypt', '--newline=no', `--name=${t.name}`, t.file, '-'], req.signal);
    if (r.code !== 0) {
      r.stdout.fill(0);
      throw this.#failure(r, t, 'decrypt');
    }
    return SecretValue.adopt(r.stdout);
  }

  /** A hash of the encrypted file: re-encrypting (even the same bytes) changes it; no decryption. */
  async version(req: ProviderRequest): Promise<string> {
    this.checkSignal(req.signal, 'version');
    const t = this.#find(req.path, req.options);
    return this.fileVersion(t.file, t.file);
  }

  /** Encrypts into DIR/NAME.cred (first configured directory), replacing it atomically. */
  async store(req: StoreRequest): Promise<void> {
    const name = this.#name(req.path);
    const dir = this.settings.dirs[0];
    if (!dir) throw new KeywayError('failed_precondition', `${this.where}: no credential directory configured to store into`);
    const file = join(dir, `${name}.cred`);
    const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
    const credName = req.options.name ?? name;
    const r = await this.#run(['encrypt', `--name=${credName}`, `--with-key=${this.settings.withKey}`, '-', tmp], req.signal, req.value.expose());
    if (r.code !== 0) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing was written
      }
      throw this.#failure(r, { file, name: credName }, 'encrypt');
    }
    try {
      renameSync(tmp, file);
    } catch (e) {
      throw toKeywayError(e, `${this.where}: ${file}`);
    }
  }

  async delete(req: ProviderRequest): Promise<void> {
    const t = this.#find(req.path, req.options);
    try {
      unlinkSync(t.file);
    } catch (e) {
      throw toKeywayError(e, `${this.where}: ${t.file}`);
    }
  }

  /** Credential names in the directories (first directory wins for duplicates). */
  async list(req: ListRequest): Promise<string[]> {
    this.checkSignal(req.signal, 'list');
    const names = new Set<string>();
    for (const dir of this.settings.dirs) {
      let entries: string[];
      try {
        entries = readdirSync(dir);
      } catch {
        continue;
      }
      for (const e of entries) {
        if (e.startsWith('.')) continue;
        const n = e.endsWith('.cred') ? e.slice(0, -5) : e;
        if (NAME_RE.test(n) && isFile(join(dir, e))) names.add(n);
      }
    }
    return [...names].filter((n) => n.startsWith(req.prefix ?? '')).sort();
  }

  // ---- internals -------------------------------------------------------------------------------

  #name(path: string): string {
    if (!NAME_RE.test(path) || path === '.' || path === '..') {
      throw new KeywayError('invalid_argument', `${this.where}: credential name ${JSON.stringify(path.slice(0, 128))} is invalid (letters, digits, _ . @ : + -; no "/")`);
    }
    return path;
  }

  #find(path: string, options: Readonly<Record<string, string>>): Target {
    const override = options.name;
    if (override !== undefined) this.#name(override);
    if (isAbsolute(path)) {
      const file = resolve(path);
      if (!this.settings.allowAnyPath && !this.settings.dirs.some((d) => file.startsWith(resolve(d) + '/'))) {
        throw new KeywayError('permission_denied', `${this.where}: ${file} is outside the credential directories (set allow_any_path = true to allow it)`);
      }
      if (!isFile(file)) throw new KeywayError('not_found', `${this.where}: no credential file ${file}`);
      return { file, name: override ?? basename(file).replace(/\.cred$/, '') };
    }
    const name = this.#name(path);
    for (const dir of this.settings.dirs) {
      for (const candidate of [join(dir, `${name}.cred`), join(dir, name)]) {
        if (isFile(candidate)) return { file: candidate, name: override ?? name };
      }
    }
    throw new KeywayError('not_found', `${this.where}: no credential ${name} in ${this.settings.dirs.join(', ') || '(no directories)'}`);
  }

  #run(args: string[], signal: AbortSignal, stdin?: Buffer): Promise<Captured> {
    const env: Record<string, string> = { SYSTEMD_LOG_LEVEL: 'err' };
    // systemd's documented override for the host key location.
    if (this.settings.hostKeyFile) env.SYSTEMD_CREDENTIAL_SECRET = this.settings.hostKeyFile;
    return this.run(args, env, signal, MAX_CREDENTIAL_BYTES, stdin);
  }

  #failure(r: Captured, t: Target, verb: string): KeywayError {
    const err = r.stderr;
    const w = `${this.where}: ${verb} ${t.file}`;
    if (/does not match filename|Embedded credential name/i.test(err)) {
      return new KeywayError('permission_denied', `${w}: the credential was encrypted under another name than "${t.name}" (pass ?name=THE-NAME if that is intended)`);
    }
    if (/Decryption failed|incorrect key|authentication failed|Failed to unseal/i.test(err)) {
      return new KeywayError('permission_denied', `${w}: cannot decrypt with this host's key or TPM (encrypted on another machine or for another key)`);
    }
    if (/Failed to determine local credential key|credential\.secret/i.test(err)) {
      return new KeywayError('failed_precondition', `${w}: the host credential key is missing (run "systemd-creds setup"${this.settings.hostKeyFile ? ` or check host_key_file ${this.settings.hostKeyFile}` : ''})`);
    }
    if (/time passed|not-after|expired/i.test(err)) return new KeywayError('failed_precondition', `${w}: the credential has expired (its not-after time passed)`);
    if (/TPM/i.test(err)) return new KeywayError('failed_precondition', `${w}: TPM2 is required for this credential but not usable`);
    if (/Failed to read encrypted credential|Bad message|Invalid argument|Failed to decode/i.test(err)) {
      return new KeywayError('invalid_argument', `${w}: not a valid encrypted credential`);
    }
    return this.exitFailure(r, w, /not located on encrypted media/);
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
