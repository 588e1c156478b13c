// Real non-root users for containment tests: an attacker (and a victim) that are separate accounts
// on this machine, created with useradd on first use. Root only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export interface LocalUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The account `name`, created (system account, no home, no login shell) when missing. */
export function localUser(name: string): LocalUser {
  const look = (): LocalUser | undefined => {
    const r = spawnSync('getent', ['passwd', name], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
    const f = r.stdout.trim().split(':');
    return { name, uid: Number(f[2]), gid: Number(f[3]) };
  };
  const found = look();
  if (found) return found;
  // Parallel test files may run useradd at the same moment; it fails while /etc/passwd is locked.
  let stderr = '';
  for (let attempt = 0; attempt < 50; attempt++) {
    const r = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
    stderr = r.stderr;
    const made = look();
    if (made) return made;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
  throw new Error(`useradd ${name} failed: ${stderr}`);
}

/** Starts `file` as `user` in `cwd`, in the background (the caller kills it). */
export function spawnAs(user: LocalUser, file: string, args: readonly string[], cwd: string): ChildProcess {
  return spawn(file, [...args], { uid: user.uid, gid: user.gid, cwd, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
}

/** Runs a command as `user` and waits for it. */
export function runAs(user: LocalUser, file: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(file, [...args], { uid: user.uid, gid: user.gid, cwd: opts.cwd ?? '/', env: opts.env ?? { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, input: opts.input ?? '', encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
