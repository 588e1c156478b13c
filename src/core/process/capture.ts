// Runs a short-lived tool to completion and captures what it printed: stdin from a buffer (where
// secret bytes go in), stdout capped and collected into one buffer the caller owns (where secret
// bytes come out; every chunk on the way is wiped), stderr capped as text. A deadline or the
// caller's signal stops the whole process group (supervise.ts).
import { KeywayError, throwIfAborted } from '../errors.js';
import { Supervised, TOOL_GRACE_MS, type ExitStatus } from './supervise.js';

/** Stderr kept for messages; tools run this way never print secret bytes there. */
export const STDERR_CAP = 8 * 1024;

export interface CaptureSpec {
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly stdin?: Buffer;
  readonly signal?: AbortSignal;
  readonly timeoutMs: number;
  readonly maxStdout: number;
  /** Prefix for messages: `pass provider "NAME"`. */
  readonly where: string;
  /**
   * Open descriptors the tool gets as its fd 3, 4, ...: stdio entries past 2 are the only
   * descriptors a Node child inherits (mount(8) onto a directory keyway holds open).
   */
  readonly extraFds?: readonly number[];
  /** SIGKILL the group when the tool exits (default true; see supervise.ts). */
  readonly sweep?: boolean;
  /** Test seam: sees every stdout chunk as it arrives (each is wiped once copied or refused). */
  readonly onChunk?: (chunk: Buffer) => void;
}

export interface Captured extends ExitStatus {
  /** Owned by the caller; allocated outside the pool so it can be wiped completely. */
  readonly stdout: Buffer;
  /** Capped at STDERR_CAP characters. */
  readonly stderr: string;
}

/**
 * Resolves with the exit status and output whatever the status; the caller maps a failure (it
 * knows the tool's messages, see exitPhrase). Rejects with a KeywayError when the tool cannot be
 * started (unavailable / internal), misses the deadline (timeout), is cancelled (the signal's
 * reason), or prints more than maxStdout (too_large). No message carries output.
 */
export async function runCaptured(r: CaptureSpec): Promise<Captured> {
  const what = `${r.where}: ${r.file}`;
  throwIfAborted(r.signal, what);
  const deadline = AbortSignal.timeout(r.timeoutMs);
  const proc = new Supervised({
    file: r.file,
    args: r.args,
    env: r.env,
    stdio: ['pipe', 'pipe', 'pipe', ...(r.extraFds ?? [])],
    graceMs: TOOL_GRACE_MS,
    signal: r.signal ? AbortSignal.any([r.signal, deadline]) : deadline,
    ...(r.sweep !== undefined ? { sweep: r.sweep } : {}),
  });
  const child = proc.child;
  const out: Buffer[] = [];
  let outSize = 0;
  let stderr = '';
  let tooLarge: KeywayError | undefined;
  child.stdout?.on('data', (c: Buffer) => {
    r.onChunk?.(c);
    outSize += c.length;
    if (tooLarge || outSize > r.maxStdout) {
      tooLarge ??= new KeywayError('too_large', `${r.where}: output of ${r.file} is larger than ${r.maxStdout} bytes`);
      c.fill(0);
      proc.stop();
      return;
    }
    out.push(c);
  });
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < STDERR_CAP) stderr += c.toString('utf8').slice(0, STDERR_CAP - stderr.length);
  });
  child.stdin?.on('error', () => {
    // EPIPE when the tool exits without reading stdin; its exit status tells what happened.
  });
  child.stdin?.end(r.stdin);

  const ended = await proc.closed;
  const wipe = (): void => {
    for (const c of out) c.fill(0);
  };
  const e = ended.spawnError;
  if (e) {
    wipe();
    if (e.code === 'ENOENT') throw new KeywayError('unavailable', `${what} is not installed or not on PATH`, { cause: e });
    if (e.code === 'EACCES') throw new KeywayError('unavailable', `${what} is not executable`, { cause: e });
    throw new KeywayError('internal', `${r.where}: cannot run ${r.file} (${e.code ?? 'spawn failed'})`, { cause: e });
  }
  if (tooLarge || ended.aborted) {
    wipe();
    if (tooLarge) throw tooLarge;
    throwIfAborted(r.signal, what);
    throw new KeywayError('timeout', `${what} did not finish within ${r.timeoutMs} ms`);
  }
  const stdout = Buffer.allocUnsafeSlow(outSize);
  let off = 0;
  for (const c of out) {
    c.copy(stdout, off);
    off += c.length;
  }
  wipe();
  return { code: ended.code, signal: ended.signal, stdout, stderr };
}
