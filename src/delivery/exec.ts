// Runs a host tool (mount, umount, chcon, podman --version ...) with a deadline through the one
// process supervisor (own process group, SIGTERM then SIGKILL after TOOL_GRACE_MS), and returns its exit status and
// capped output. Never used with secret bytes in argv or env.
import { toKeywayError } from '../core/errors.js';
import { runCaptured } from '../core/process/capture.js';

export interface ExecResult {
  readonly ok: boolean;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The spawn error code (ENOENT when the tool is missing), else the KeywayError code. */
  readonly error?: string;
}

const CAP = 4096;
/** The whole environment of a host tool: the system's tool directories and the C locale, nothing else. */
export const HOST_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /**
   * SIGKILL what the tool left in its process group when it exits (default true). Off only for a
   * tool that may start a process meant to outlive it: `podman --version` may start rootless
   * Podman's pause process.
   */
  readonly sweep?: boolean;
}

export async function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  try {
    const r = await runCaptured({
      file,
      args,
      env: HOST_ENV,
      where: 'host tool',
      timeoutMs: opts.timeoutMs ?? 10_000,
      maxStdout: 1024 * 1024,
      sweep: opts.sweep ?? true,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return { ok: r.code === 0, code: r.code, stdout: r.stdout.toString('utf8').slice(0, CAP), stderr: r.stderr.slice(0, CAP).trim() };
  } catch (e) {
    const err = toKeywayError(e);
    const errno = (err.cause as NodeJS.ErrnoException | undefined)?.code;
    return { ok: false, code: null, stdout: '', stderr: '', error: typeof errno === 'string' ? errno : err.code };
  }
}
