// keyway's heap holds secret bytes for moments at a time; a crash must not write them to disk as a
// core dump. Two layers, because Node can neither setrlimit(2) nor prctl(PR_SET_DUMPABLE):
//  - /proc/self/coredump_filter = 0: the kernel leaves every memory mapping out of a core dump
//    (only headers and registers remain). A write to a proc file: well under a millisecond, so
//    every CLI command does it.
//  - RLIMIT_CORE = 0 (soft and hard), set on this pid by util-linux prlimit(1), which also makes
//    systemd-coredump drop the dump. A process start (~5 ms), so only the long-lived `serve` and
//    `run` pay it; the systemd units also set LimitCORE=0.
// Children inherit both, which suits `keyway run`: its command holds the same secrets.
import { readFileSync, writeFileSync } from 'node:fs';
import { runCaptured } from './process/capture.js';

/** Leaves keyway's memory out of any core dump. Best effort: not every kernel has the file. */
export function excludeMemoryFromCoreDumps(): void {
  try {
    writeFileSync('/proc/self/coredump_filter', '0');
  } catch {
    // no /proc (or not Linux): nothing cheaper to do
  }
}

/** Sets this process's core limit to 0 as well. Resolves to whether it worked. */
export async function disableCoreDumps(): Promise<boolean> {
  excludeMemoryFromCoreDumps();
  try {
    const r = await runCaptured({ file: 'prlimit', args: ['--pid', String(process.pid), '--core=0:0'], env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C' }, timeoutMs: 5000, maxStdout: 1 << 20, where: 'core dumps' });
    return r.code === 0;
  } catch {
    return false; // not installed, too slow: the coredump_filter above still holds
  }
}

/** The soft and hard core limits of a process, from /proc/<pid>/limits ('unlimited' as Infinity). */
export function coreLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max core file size'));
    const m = line === undefined ? null : /^Max core file size\s+(\S+)\s+(\S+)/.exec(line);
    if (!m) return undefined;
    const num = (s: string | undefined): number => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: num(m[1]), hard: num(m[2]) };
  } catch {
    return undefined;
  }
}
