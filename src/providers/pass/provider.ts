// `pass`: entries of a password-store (one gpg-encrypted file per entry) read and written through
// the real `pass` tool, so gpg-agent, smartcards and the store's git history behave as the user
// expects. Values are exact bytes (pass preserves binary content); `?line=N` picks one line, e.g.
// line=1 for the password by pass's convention.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError, toKeywayError } from '../../core/errors.js';
import type { ListRequest, Provider, ProviderRequest, StoreRequest } from '../../core/provider.js';
import { SecretValue } from '../../core/secret-value.js';
import type { Captured } from '../../core/process/capture.js';
import { ToolProvider, type ToolSettings } from '../kit/tool.js';

const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

export interface PassSettings extends ToolSettings {
  /** Empty when nothing says where the store is (reported on use). */
  readonly storeDir: string;
  readonly gnupgHome?: string;
  readonly home?: string;
}

export class PassProvider extends ToolProvider<PassSettings> implements Provider {
  constructor(name: string, settings: PassSettings) {
    super('pass', name, ['line'], settings);
  }

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const entry = this.#entry(req.path);
    const line = parseLine(this.where, req.options.line);
    this.#requireFile(entry);
    const r = await this.#run(['show', '--', entry], req.signal);
    if (r.code !== 0) {
      r.stdout.fill(0);
      throw this.#failure(r, entry, 'read');
    }
    if (line === undefined) return SecretValue.adopt(r.stdout);
    try {
      return pickLine(r.stdout, line, `${this.where}: ${entry}`);
    } finally {
      r.stdout.fill(0);
    }
  }

  /** A hash of the encrypted file: changes whenever the entry is rewritten, without decrypting. */
  async version(req: ProviderRequest): Promise<string> {
    this.checkSignal(req.signal, 'version');
    const entry = this.#entry(req.path);
    return this.fileVersion(this.#requireFile(entry), entry);
  }

  async store(req: StoreRequest): Promise<void> {
    const entry = this.#entry(req.path);
    if (req.options.line !== undefined) throw new KeywayError('invalid_argument', `${this.where}: line cannot be used when storing`);
    this.#requireStore();
    // insert -m reads stdin to EOF and hands it to gpg unchanged: binary-safe.
    const r = await this.#run(['insert', '--multiline', '--force', '--', entry], req.signal, req.value.expose());
    if (r.code !== 0) throw this.#failure(r, entry, 'write');
  }

  async delete(req: ProviderRequest): Promise<void> {
    const entry = this.#entry(req.path);
    this.#requireFile(entry);
    const r = await this.#run(['rm', '--force', '--', entry], req.signal);
    if (r.code !== 0) throw this.#failure(r, entry, 'delete');
  }

  /** Entry names (without `.gpg`) under `prefix`, recursively; the store's .git is skipped. */
  async list(req: ListRequest): Promise<string[]> {
    this.checkSignal(req.signal, 'list');
    this.#requireStore();
    const out: string[] = [];
    const walk = (dir: string, rel: string): void => {
      for (const d of readdirSync(dir, { withFileTypes: true })) {
        if (d.name.startsWith('.')) continue;
        const relName = rel === '' ? d.name : `${rel}/${d.name}`;
        if (d.isDirectory()) walk(join(dir, d.name), relName);
        else if (d.isFile() && d.name.endsWith('.gpg')) out.push(relName.slice(0, -4));
      }
    };
    try {
      walk(this.settings.storeDir, '');
    } catch (e) {
      throw toKeywayError(e, `${this.where}: list`);
    }
    const prefix = req.prefix?.replace(/^\/+/, '') ?? '';
    return out.filter((n) => n.startsWith(prefix)).sort();
  }

  // ---- internals -------------------------------------------------------------------------------

  /** Entry names as pass takes them: relative, no empty, "." or ".." segments, no leading "-". */
  #entry(path: string): string {
    const p = path.replace(/^\/+|\/+$/g, '');
    const bad = (why: string): KeywayError => new KeywayError('invalid_argument', `${this.where}: entry name ${JSON.stringify(p.slice(0, 128))} ${why}`);
    if (p === '') throw bad('is empty');
    if (p.includes('\0')) throw bad('contains NUL');
    for (const seg of p.split('/')) {
      if (seg === '' || seg === '.' || seg === '..') throw bad('has an empty, "." or ".." segment');
      if (seg.startsWith('-')) throw bad('has a segment starting with "-"');
    }
    return p;
  }

  #requireStore(): void {
    if (this.settings.storeDir === '') throw new KeywayError('failed_precondition', `${this.where}: no password store configured (set store_dir, PASSWORD_STORE_DIR or HOME)`);
    let ok = false;
    try {
      ok = statSync(this.settings.storeDir).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok) throw new KeywayError('unavailable', `${this.where}: password store ${this.settings.storeDir} does not exist or is not a directory`);
  }

  /** The entry's file, or not_found; checked first because `pass show DIR` prints a tree, not an error. */
  #requireFile(entry: string): string {
    this.#requireStore();
    const file = join(this.settings.storeDir, `${entry}.gpg`);
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) throw new KeywayError('not_found', `${this.where}: ${entry} is not in the password store`);
    return file;
  }

  #run(args: string[], signal: AbortSignal, stdin?: Buffer): Promise<Captured> {
    const env: Record<string, string> = {
      PASSWORD_STORE_DIR: this.settings.storeDir,
      // Never prompt: a key that needs a passphrase not cached in gpg-agent fails instead of hanging.
      PASSWORD_STORE_GPG_OPTS: '--batch',
    };
    if (this.settings.gnupgHome) env.GNUPGHOME = this.settings.gnupgHome;
    if (this.settings.home) env.HOME = this.settings.home;
    return this.run(args, env, signal, MAX_ENTRY_BYTES, stdin);
  }

  #failure(r: Captured, entry: string, verb: string): KeywayError {
    const err = r.stderr;
    const w = `${this.where}: ${verb} ${entry}`;
    if (/is not in the password store/.test(err)) return new KeywayError('not_found', `${this.where}: ${entry} is not in the password store`);
    if (/No secret key|decryption failed: No such file|secret key not available/i.test(err)) {
      return new KeywayError('permission_denied', `${w}: gpg has no secret key for this entry${this.settings.gnupgHome ? ` in ${this.settings.gnupgHome}` : ''}`);
    }
    if (/You must run:.*pass init|\.gpg-id/i.test(err)) return new KeywayError('failed_precondition', `${w}: the password store is not initialized (pass init GPG-ID)`);
    if (/No public key|unusable public key|encryption failed/i.test(err)) return new KeywayError('failed_precondition', `${w}: gpg cannot encrypt to the store's recipients (public key missing or unusable)`);
    if (/pinentry|Inappropriate ioctl|Bad passphrase|No passphrase/i.test(err)) return new KeywayError('permission_denied', `${w}: the gpg key needs a passphrase that gpg-agent does not have cached`);
    if (/connection to agent|gpg-agent|can't connect to/i.test(err)) return new KeywayError('unavailable', `${w}: gpg-agent is not available`);
    return this.exitFailure(r, w);
  }
}

function parseLine(where: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,6}$/.test(raw)) throw new KeywayError('invalid_argument', `${where}: option line must be a positive integer`);
  return Number(raw);
}

/** Line N (1-based) without its newline, copied into a fresh value. */
function pickLine(bytes: Buffer, n: number, where: string): SecretValue {
  let start = 0;
  for (let i = 1; i < n; i++) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) throw new KeywayError('not_found', `${where}: has no line ${n}`);
    start = nl + 1;
  }
  if (start >= bytes.length) throw new KeywayError('not_found', `${where}: has no line ${n}`);
  let end = bytes.indexOf(0x0a, start);
  if (end < 0) end = bytes.length;
  return SecretValue.copyOf(bytes.subarray(start, end));
}
