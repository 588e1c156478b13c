// Runs a helper tool (pass, systemd-creds) for a provider: no shell, an environment built by the
// caller (nothing inherited), secrets only on stdin/stdout, its own process group so a timeout or
// cancellation kills the whole group (SIGTERM, then SIGKILL after a grace period).
import { spawn } from 'node:child_process';
import { KeywayError, throwIfAborted } from '../../core/errors.js';

const KILL_GRACE_MS = 2_000;
const STDERR_CAP = 8 * 1024;

export interface ToolRun {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin?: Buffer;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly maxStdout: number;
  /** For messages: `pass provider "NAME"`. */
  readonly where: string;
  readonly cwd?: string;
}

export interface ToolResult {
  readonly code: number | null;
  /** Owned by the caller; allocated outside the pool so it can be wiped completely. */
  readonly stdout: Buffer;
  /** Capped; tools used here never print secret bytes to stderr. */
  readonly stderr: string;
}

export async function runTool(r: ToolRun): Promise<ToolResult> {
  throwIfAborted(r.signal, `${r.where}: ${r.file}`);
  const timeout = AbortSignal.timeout(r.timeoutMs);
  const signal = AbortSignal.any([r.signal, timeout]);
  return new Promise<ToolResult>((resolve, reject) => {
    const child = spawn(r.file, [...r.args], { env: { ...r.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...(r.cwd ? { cwd: r.cwd } : {}) });
    const out: Buffer[] = [];
    let outSize = 0;
    let stderr = '';
    let failure: KeywayError | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let settled = false;

    const killGroup = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // already gone
      }
    };
    const stop = (why: KeywayError): void => {
      failure ??= why;
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const onAbort = (): void => {
      if (r.signal.aborted) {
        try {
          throwIfAborted(r.signal, `${r.where}: ${r.file}`);
        } catch (e) {
          stop(e as KeywayError);
          return;
        }
      }
      stop(new KeywayError('timeout', `${r.where}: ${r.file} did not finish within ${r.timeoutMs} ms`));
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const wipe = (): void => {
      for (const c of out) c.fill(0);
    };
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };

    child.stdout.on('data', (c: Buffer) => {
      outSize += c.length;
      if (outSize > r.maxStdout) {
        stop(new KeywayError('too_large', `${r.where}: output of ${r.file} is larger than ${r.maxStdout} bytes`));
        c.fill(0);
        return;
      }
      out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < STDERR_CAP) stderr += c.toString('utf8').slice(0, STDERR_CAP - stderr.length);
    });
    child.stdin.on('error', () => {
      // EPIPE when the tool exits without reading stdin; its exit status tells what happened.
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(() => {
        wipe();
        if (killTimer) clearTimeout(killTimer);
        if (e.code === 'ENOENT') reject(new KeywayError('unavailable', `${r.where}: ${r.file} is not installed or not on PATH`, { cause: e }));
        else if (e.code === 'EACCES') reject(new KeywayError('unavailable', `${r.where}: ${r.file} is not executable`, { cause: e }));
        else reject(new KeywayError('internal', `${r.where}: cannot run ${r.file} (${e.code ?? 'spawn failed'})`, { cause: e }));
      });
    });
    child.on('close', (code) => {
      finish(() => {
        // No group kill after a normal exit: the child is reaped, so its pid (the group id) may
        // already belong to an unrelated process.
        if (killTimer) clearTimeout(killTimer);
        if (failure) {
          wipe();
          reject(failure);
          return;
        }
        const stdout = Buffer.allocUnsafeSlow(outSize);
        let off = 0;
        for (const c of out) {
          c.copy(stdout, off);
          off += c.length;
        }
        wipe();
        resolve({ code, stdout, stderr });
      });
    });
    if (r.stdin) child.stdin.end(r.stdin);
    else child.stdin.end();
  });
}
