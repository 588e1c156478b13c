// `keyway serve` as a non-root user with rootless Podman: re-executes itself inside Podman's user +
// mount namespace, where its ramfs mount root is visible to Podman's bind mounts of volume paths.
// If Podman replaces that namespace (its pause process restarted), the inner keyway leaves with
// NAMESPACE_REPLACED and the outer one joins the new namespace; nothing keeps serving from a
// namespace Podman no longer uses.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants as osc } from 'node:os';
import { toKeywayError } from '../../core/errors.js';
import { findPodmanNamespace, joinedPodmanNamespace, PODMAN_NS_ENV, podmanNamespaceAlive, type PodmanNamespace } from './podman-ns.js';

/** Exit status of an inner keyway whose Podman namespace went away (EX_TEMPFAIL). */
export const NAMESPACE_REPLACED = 75;
const FORWARDED: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
const WATCH_MS = 1000;
const MAX_REJOINS = 5;

export type ServeIsolation =
  | { readonly kind: 'host' }
  | { readonly kind: 'podman'; readonly ns: PodmanNamespace }
  | { readonly kind: 'reexec'; run(): Promise<number> };

export async function planServeIsolation(signal?: AbortSignal): Promise<ServeIsolation> {
  const joined = joinedPodmanNamespace();
  if (joined !== undefined) return { kind: 'podman', ns: joined };
  if (process.geteuid?.() === 0) return { kind: 'host' };
  delete process.env[PODMAN_NS_ENV];
  const ns = await findPodmanNamespace(signal);
  if (ns === undefined) return { kind: 'host' };
  return { kind: 'reexec', run: () => serveInside(ns) };
}

/** Polls the pause process; when it is gone, asks this daemon to shut down with NAMESPACE_REPLACED. */
export function watchPodmanNamespace(ns: PodmanNamespace): () => void {
  const timer = setInterval(() => {
    if (podmanNamespaceAlive(ns)) return;
    clearInterval(timer);
    process.stderr.write(`keyway: Podman's rootless namespace is gone (pause process ${ns.pausePid} exited); leaving it\n`);
    process.exitCode = NAMESPACE_REPLACED;
    process.kill(process.pid, 'SIGTERM');
  }, WATCH_MS);
  timer.unref();
  return () => clearInterval(timer);
}

async function once_(ns: PodmanNamespace): Promise<number> {
  const argv = ['-U', '-m', '-t', String(ns.pausePid), '--preserve-credentials', '--', 'setpriv', '--pdeathsig', 'KILL', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  const child = spawn('nsenter', argv, { env: { ...process.env, [PODMAN_NS_ENV]: String(ns.pausePid) }, stdio: 'inherit' });
  const forward = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = (): void => {
      child.kill(sig);
    };
    forward.set(sig, h);
    process.on(sig, h);
  }
  try {
    const [code, sig] = await Promise.race([
      once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>,
      once(child, 'error').then(([e]) => {
        throw toKeywayError(e, "cannot start nsenter(1) to join Podman's namespace");
      }),
    ]);
    return code ?? 128 + (sig !== null ? (osc.signals[sig] ?? 0) : 0);
  } finally {
    for (const [sig, h] of forward) process.off(sig, h);
  }
}

async function serveInside(first: PodmanNamespace): Promise<number> {
  let ns = first;
  for (let i = 0; ; i++) {
    const code = await once_(ns);
    if (code !== NAMESPACE_REPLACED || i >= MAX_REJOINS) return code;
    const next = await findPodmanNamespace();
    if (next === undefined) return code;
    process.stderr.write(`keyway: joining Podman's new rootless namespace (pause process ${next.pausePid})\n`);
    ns = next;
  }
}
