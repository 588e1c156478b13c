// `keyway serve` as a non-root user with rootless Podman: re-executes itself inside Podman's user +
// mount namespace, where its ramfs mount root is visible to Podman's bind mounts of volume paths.
// If Podman replaces that namespace (its pause process restarted), the inner keyway leaves with
// NAMESPACE_REPLACED and the outer one joins the new namespace; nothing keeps serving from a
// namespace Podman no longer uses.
import { toKeywayError } from '../../core/errors.js';
import { reexecSelf } from './reexec.js';
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
  let ns: PodmanNamespace | undefined;
  try {
    ns = await findPodmanNamespace(signal);
  } catch (e) {
    // Podman is installed but not usable by this user (no subuids, no runtime dir): the admin API
    // still works; volumes need Podman's namespace, so say why they are off.
    process.stderr.write(`keyway: warning: ${toKeywayError(e).message}; serving without rootless Podman volumes\n`);
    return { kind: 'host' };
  }
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

function enterOnce(ns: PodmanNamespace): Promise<number> {
  return reexecSelf('nsenter', ['-U', '-m', '-t', String(ns.pausePid), '--preserve-credentials'], { [PODMAN_NS_ENV]: String(ns.pausePid) }, FORWARDED);
}

async function serveInside(first: PodmanNamespace): Promise<number> {
  let ns = first;
  for (let i = 0; ; i++) {
    const code = await enterOnce(ns);
    if (code !== NAMESPACE_REPLACED || i >= MAX_REJOINS) return code;
    const next = await findPodmanNamespace();
    if (next === undefined) return code;
    process.stderr.write(`keyway: joining Podman's new rootless namespace (pause process ${next.pausePid})\n`);
    ns = next;
  }
}
