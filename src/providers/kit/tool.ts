// The base of providers that run a helper tool (pass, systemd-creds): the tool's executable, PATH
// and deadline, an environment built from nothing, file-hash versions that need no decryption, and
// one message for a failure none of the provider's stderr patterns explains.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { throwIfAborted, toKeywayError, type KeywayError } from '../../core/errors.js';
import { oneLine } from '../../core/one-line.js';
import { runCaptured, type Captured } from '../../core/process/capture.js';
import { exitError } from '../../core/process/supervise.js';
import { BaseProvider } from './base.js';

export interface ToolSettings {
  readonly binary: string;
  /** PATH for the tool and the tools it runs. */
  readonly path: string;
  readonly timeoutMs: number;
}

export abstract class ToolProvider<S extends ToolSettings> extends BaseProvider {
  protected readonly settings: S;

  protected constructor(type: string, name: string, optionKeys: readonly string[], settings: S) {
    super(type, name, optionKeys);
    this.settings = settings;
  }

  /** Runs the tool with PATH, LC_ALL=C and `env`; nothing else is inherited. */
  protected run(args: string[], env: Readonly<Record<string, string>>, signal: AbortSignal, maxStdout: number, stdin?: Buffer): Promise<Captured> {
    const s = this.settings;
    return runCaptured({ file: s.binary, args, env: { PATH: s.path, LC_ALL: 'C', ...env }, signal, timeoutMs: s.timeoutMs, maxStdout, where: this.where, ...(stdin ? { stdin } : {}) });
  }

  /** A hash of an encrypted file: changes whenever it is rewritten, without decrypting. */
  protected fileVersion(file: string, context: string): string {
    try {
      return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 32);
    } catch (e) {
      throw toKeywayError(e, `${this.where}: ${context}`);
    }
  }

  protected checkSignal(signal: AbortSignal, op: string): void {
    throwIfAborted(signal, `${this.where}: ${op}`);
  }

  /** `internal`, with the tool's exit status and last stderr line (minus lines matching `ignore`). */
  protected exitFailure(r: Captured, w: string, ignore?: RegExp): KeywayError {
    const last = oneLine(r.stderr.trim().split('\n').filter((l) => l.length > 0 && !(ignore?.test(l) ?? false)).at(-1) ?? '').slice(0, 200);
    return exitError('internal', `${w}: ${this.type}`, r, last);
  }
}
