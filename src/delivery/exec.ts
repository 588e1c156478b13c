// Runs a host tool (mount, umount, chcon, podman --version ...) without a shell, with a deadline,
// and returns its exit status and a capped stderr. Never used with secret bytes in argv or env.
import { execFile } from 'node:child_process';

export interface ExecResult {
  readonly ok: boolean;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The spawn error code (ENOENT when the tool is missing). */
  readonly error?: string;
}

const CAP = 4096;

export function run(file: string, args: readonly string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 10_000), ...(opts.signal ? [opts.signal] : [])];
    execFile(
      file,
      [...args],
      { signal: AbortSignal.any(signals), killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        resolve({
          ok: e === null,
          code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
          stdout: String(stdout).slice(0, CAP),
          stderr: String(stderr).slice(0, CAP).trim(),
          ...(e !== null && typeof e.code === 'string' ? { error: e.code } : {}),
        });
      },
    );
  });
}
