// `keyway doctor` as a non-root user: whether user namespaces are allowed, what `keyway run`'s
// private mount root really is (mounted for the check in a throw-away namespace), and whether
// `keyway serve` has joined rootless Podman's namespace with a ramfs root there.
import { mkdirSync } from 'node:fs';
import { toKeywayError } from '../../core/errors.js';
import type { Check } from '../doctor.js';
import { run } from '../exec.js';
import { mountRootPath } from '../mount-root.js';
import { mountAt, parseMountInfo, readMountInfo } from '../mountinfo.js';
import { classifyMount } from '../protection.js';
import { findPodmanNamespace } from './podman-ns.js';
import { probeUserns, usernsUnavailableError } from './support.js';

export interface RootlessChecks {
  readonly checks: Check[];
  /** The host-namespace mount root check does not describe delivery (it happens in a namespace). */
  readonly replacesMountRoot: boolean;
}

async function runRootCheck(path: string, signal?: AbortSignal): Promise<Check> {
  const name = 'mount root (keyway run)';
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    return { name, status: 'insecure', detail: toKeywayError(e).message };
  }
  const script = 'mount -t tmpfs -o noswap,mode=0700,size=1m keyway-probe "$1" 2>/dev/null || mount -t ramfs -o mode=0700 keyway-probe "$1" && grep -F -- " $1 " /proc/self/mountinfo';
  const r = await run('unshare', ['--map-current-user', '--mount', '--keep-caps', '--', 'sh', '-c', script, 'sh', path], { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
  const m = r.ok ? mountAt(path, parseMountInfo(r.stdout)) : undefined;
  if (m === undefined) return { name, status: 'insecure', detail: `cannot mount RAM in a private user namespace: ${r.stderr.slice(0, 200)}` };
  const c = classifyMount(m);
  return { name, status: c.protection, detail: `${path}: ${m.fsType} in a private user namespace, ${c.reason}` };
}

async function podmanCheck(path: string, signal?: AbortSignal): Promise<Check> {
  const name = 'podman namespace (keyway serve)';
  try {
    const ns = await findPodmanNamespace(signal);
    if (ns === undefined) return { name, status: 'info', detail: 'podman not installed: keyway serve stays in its own namespaces' };
    const m = mountAt(path, readMountInfo(`/proc/${ns.pausePid}/mountinfo`));
    if (m === undefined) return { name, status: 'info', detail: `not joined: no keyway mount root at ${path} in rootless Podman's namespace (pause pid ${ns.pausePid}); start keyway serve` };
    const c = classifyMount(m);
    return { name, status: c.protection, detail: `joined rootless Podman's namespace (pause pid ${ns.pausePid}): ${path} is ${m.fsType}, ${c.reason}` };
  } catch (e) {
    return { name, status: 'info', detail: toKeywayError(e).message };
  }
}

export async function rootlessChecks(runtimeDir: string, signal?: AbortSignal): Promise<RootlessChecks> {
  const support = await probeUserns(signal);
  const path = mountRootPath(runtimeDir);
  if (!support.supported) {
    return {
      checks: [{ name: 'user namespaces', status: 'weak', detail: `${usernsUnavailableError(support, 'keyway run').message}` }],
      replacesMountRoot: false,
    };
  }
  return {
    checks: [
      { name: 'user namespaces', status: 'info', detail: `allowed (${support.settings.join(', ') || 'no limits'}): non-root delivery mounts a private ramfs` },
      await runRootCheck(path, signal),
      await podmanCheck(path, signal),
    ],
    replacesMountRoot: true,
  };
}
