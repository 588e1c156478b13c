// `keyway doctor`: checks what decides how safe delivery is on this host, one line per check, and
// a verdict in systemd-creds' vocabulary. Checks marked `info` describe the host without changing
// the verdict (a missing podman does not make delivery less safe).
import { lstatSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { coreLimit } from '../core/core-dumps.js';
import { KeywayError, toKeywayError } from '../core/errors.js';
import { inspectOwnDir } from '../core/safe-dir.js';
import { run } from './exec.js';
import { ensureMountRoot } from './mount-root.js';
import { type Protection, worst } from './protection.js';
import { selinuxMode } from './selinux.js';
import { rootlessChecks } from './userns/doctor-checks.js';

export type CheckStatus = Protection | 'info';

export interface Check {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface DoctorInput {
  readonly runtimeDir: string;
  readonly stateDir: string;
  readonly keyFile: string;
  readonly databaseFile: string;
  /** Sockets keyway listens on, by role. */
  readonly sockets: readonly { readonly name: string; readonly path: string }[];
  readonly tools?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface DoctorReport {
  readonly checks: readonly Check[];
  readonly verdict: Protection;
}

/** Kernel ≥ 6.4 understands tmpfs `noswap`. */
export function kernelSupportsNoswap(rel = release()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > 6 || (maj === 6 && min >= 4);
}

function octal(mode: number): string {
  return '0' + (mode & 0o777).toString(8).padStart(3, '0');
}

function privateFile(name: string, path: string): Check {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return { name, status: 'info', detail: `${path} does not exist yet` };
  }
  if (st.isSymbolicLink()) return { name, status: 'insecure', detail: `${path} is a symlink` };
  if (!st.isFile()) return { name, status: 'insecure', detail: `${path} is not a regular file` };
  const me = process.geteuid?.();
  if (me !== undefined && st.uid !== me) return { name, status: 'insecure', detail: `${path} is owned by uid ${st.uid}, not keyway's uid ${me}` };
  if ((st.mode & 0o077) !== 0) return { name, status: 'insecure', detail: `${path} has mode ${octal(st.mode)}; group/other must have no access` };
  return { name, status: 'secure', detail: `${path} ${octal(st.mode)}, owner uid ${st.uid}` };
}

/** keyway's own directory: owned by keyway's uid, writable by nobody else, every parent trusted. */
function ownDirCheck(name: string, path: string): Check {
  const r = inspectOwnDir(path, name);
  if (r === undefined) return { name, status: 'info', detail: `${path} does not exist yet` };
  if (!r.ok) return { name, status: 'insecure', detail: r.problem };
  if ((r.st.mode & 0o077) !== 0) return { name, status: 'insecure', detail: `${path} has mode ${octal(r.st.mode)}; group/other must have no access (keyway tightens it to 0700 on next start)` };
  return { name, status: 'secure', detail: `${path} ${octal(r.st.mode)}, owner uid ${r.st.uid}, every parent owned by root or uid ${r.st.uid} and not writable by others` };
}

/**
 * Where a crash of keyway would put its memory. keyway sets its own core limit to 0 in `serve`
 * and `run` and keeps memory out of dumps; the host's core_pattern says where other dumps go.
 */
function coreDumpCheck(): Check[] {
  let pattern: string;
  try {
    pattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  } catch {
    pattern = '(unreadable)';
  }
  const where = pattern.startsWith('|') ? `piped to ${pattern.slice(1).split(' ')[0] ?? ''}` : `written to files named ${JSON.stringify(pattern)}`;
  const limit = coreLimit();
  const limitText = limit === undefined ? 'unknown' : limit.soft === 0 ? '0' : String(limit.soft);
  return [
    { name: 'core dumps', status: 'info', detail: `host core_pattern ${JSON.stringify(pattern)}: crashes are ${where}` },
    {
      name: 'keyway core limit',
      status: 'info',
      detail: limit?.soft === 0 ? 'core limit 0 here; serve and run also set it to 0 and keep memory out of dumps' : `core limit ${limitText} in this shell; serve and run set it to 0 themselves (and LimitCORE=0 in the systemd unit)`,
    },
  ];
}

/**
 * Who can connect decides the grade. Group access is fine for group root (gid 0): its members are
 * root-equivalent already, and 0660 root:root is what keyway.socket and Docker's plugin socket use.
 */
export function socketCheck(name: string, path: string): Check {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return { name: `${name} socket`, status: 'info', detail: `${path} not present (not serving)` };
  }
  if (!st.isSocket()) return { name: `${name} socket`, status: 'insecure', detail: `${path} exists but is not a socket` };
  if ((st.mode & 0o007) !== 0) return { name: `${name} socket`, status: 'insecure', detail: `${path} has mode ${octal(st.mode)}: any local user can connect` };
  if ((st.mode & 0o070) !== 0 && st.gid !== 0) return { name: `${name} socket`, status: 'weak', detail: `${path} has mode ${octal(st.mode)}: group gid ${st.gid} can connect` };
  if ((st.mode & 0o070) !== 0) return { name: `${name} socket`, status: 'secure', detail: `${path} ${octal(st.mode)}, owner uid ${st.uid}, group root` };
  return { name: `${name} socket`, status: 'secure', detail: `${path} ${octal(st.mode)}, owner uid ${st.uid}` };
}

function swapCheck(): Check {
  try {
    const lines = readFileSync('/proc/swaps', 'utf8').trim().split('\n').slice(1).filter((l) => l.trim() !== '');
    return { name: 'swap', status: 'info', detail: lines.length === 0 ? 'no swap active' : `${lines.length} swap device(s) active: only noswap tmpfs or ramfs keeps secrets off them` };
  } catch {
    return { name: 'swap', status: 'info', detail: '/proc/swaps unreadable' };
  }
}

async function toolCheck(tool: string, signal?: AbortSignal): Promise<Check> {
  // `podman --version` may start rootless Podman's pause process, which must outlive it.
  const r = await run(tool, ['--version'], { timeoutMs: 10_000, sweep: tool !== 'podman', ...(signal ? { signal } : {}) });
  if (r.error === 'ENOENT') return { name: tool, status: 'info', detail: 'not installed' };
  const line = (r.stdout || r.stderr).split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  return { name: tool, status: 'info', detail: r.ok ? line.slice(0, 120) : `present but "${tool} --version" failed` };
}

export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const checks: Check[] = [];
  const rel = release();
  checks.push({
    name: 'kernel',
    status: 'info',
    detail: kernelSupportsNoswap(rel) ? `${rel}: tmpfs noswap supported` : `${rel}: no tmpfs noswap (needs 6.4); keyway falls back to ramfs`,
  });
  const runtime = ownDirCheck('runtime dir', input.runtimeDir);
  const at = checks.push(runtime) - 1;
  // Non-root delivery happens in user namespaces (src/delivery/userns/), checked there.
  // Not in a runtime dir someone else controls: those checks mount in it.
  const rootless = process.geteuid?.() !== 0 && runtime.status !== 'insecure' ? await rootlessChecks(input.runtimeDir, input.signal) : undefined;
  if (rootless !== undefined) checks.push(...rootless.checks);
  if (rootless?.replacesMountRoot !== true) {
    try {
      // Setting up the mount root under a dir someone else controls is exactly what must not happen.
      if (runtime.status === 'insecure') throw new KeywayError('failed_precondition', 'not set up: the runtime dir is not safe to mount in (see the runtime dir check)');
      const root = await ensureMountRoot({ runtimeDir: input.runtimeDir, allowInsecure: true, ...(input.signal ? { signal: input.signal } : {}) });
      const how = root.isMountPoint ? `${root.fsType} mount` : `plain directory (${root.fsType})`;
      checks.push({ name: 'mount root', status: root.protection, detail: `${root.path}: ${how}, ${root.reason} [${root.options.join(',')}]` });
    } catch (e) {
      checks.push({ name: 'mount root', status: 'insecure', detail: toKeywayError(e).message });
    }
  }
  // Setting up the mount root may have created the runtime dir: report what is there now.
  if (runtime.status === 'info') checks[at] = ownDirCheck('runtime dir', input.runtimeDir);
  checks.push(swapCheck());
  const se = selinuxMode();
  checks.push({ name: 'selinux', status: 'info', detail: se === 'disabled' ? 'disabled: container_file_t labels are skipped' : `${se}: files are labelled container_file_t` });
  checks.push(...coreDumpCheck());
  checks.push(ownDirCheck('state dir', input.stateDir));
  checks.push(privateFile('database', input.databaseFile));
  checks.push(privateFile('key file', input.keyFile));
  for (const s of input.sockets) checks.push(socketCheck(s.name, s.path));
  for (const tool of input.tools ?? ['podman', 'docker', 'bwrap']) checks.push(await toolCheck(tool, input.signal));
  let verdict: Protection = 'secure';
  for (const c of checks) if (c.status !== 'info') verdict = worst(verdict, c.status);
  return { checks, verdict };
}

export function formatReport(r: DoctorReport): string {
  const lines = r.checks.map((c) => `${c.status.padEnd(8)} ${c.name}: ${c.detail}`);
  lines.push(`verdict: ${r.verdict}`);
  return lines.join('\n') + '\n';
}
