// A container image without a registry: a rootfs holding the static busybox (Debian's
// busybox-static) plus one symlink per applet, tarred once per process, then `docker import`ed or
// `podman import`ed by whoever needs it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTools } from './apt.js';

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const APPLETS = ['sh', 'cat', 'ls', 'stat', 'sleep', 'id', 'od', 'sha256sum', 'test', 'echo', 'wc', 'cp', 'mkdir', 'grep', 'true', 'false', 'mount', 'df', 'head', 'readlink', 'printf', 'env'];

let tarball: string | undefined;

/** A static busybox binary, or undefined (then tests skip, naming `busybox-static`). */
export function staticBusybox(): string | undefined {
  for (const p of BUSYBOX_CANDIDATES) {
    if (!existsSync(p)) continue;
    const r = spawnSync('file', ['-L', p]);
    // Without `file`, trust Debian: busybox-static installs /bin/busybox statically linked.
    if (r.status !== 0 || /statically linked|static-pie/.test(String(r.stdout))) return p;
  }
  return undefined;
}

export function imageSkipReason(): string | false {
  if (staticBusybox()) return false;
  const why = ensureTools([['busybox', 'busybox-static']]);
  if (why) return why;
  return staticBusybox() ? false : 'SKIPPED: no static busybox (apt-get install busybox-static)';
}

/** Path of a tar of a busybox rootfs, built once per process and removed at exit. */
export function busyboxRootfsTar(): string {
  if (tarball && existsSync(tarball)) return tarball;
  const busybox = staticBusybox();
  if (!busybox) throw new Error('no static busybox found (apt-get install busybox-static)');
  const dir = mkdtempSync(join(tmpdir(), 'keyway-rootfs-'));
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'run/secrets', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  const out = join(dir, 'busybox-rootfs.tar');
  const r = spawnSync('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', out, '.']);
  if (r.status !== 0) throw new Error(`tar failed: ${String(r.stderr)}`);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  tarball = out;
  return out;
}

/** Imports the busybox rootfs with `docker import` (env carries DOCKER_HOST) and returns the tag. */
export function importDockerImage(env: NodeJS.ProcessEnv, tag = 'keyway-test/busybox:latest'): string {
  const r = spawnSync('docker', ['import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', busyboxRootfsTar(), tag], { env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`docker import failed: ${String(r.stderr)}`);
  return tag;
}

/** Imports the busybox rootfs with `podman import` (env carries CONTAINERS_CONF etc.) and returns the tag. */
export function importPodmanImage(env: NodeJS.ProcessEnv, args: readonly string[] = [], tag = 'localhost/keyway-test/busybox:latest'): string {
  const r = spawnSync('podman', [...args, 'import', '--change', 'CMD ["/bin/sh"]', '--change', 'ENV PATH=/bin', busyboxRootfsTar(), tag], { env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`podman import failed: ${String(r.stderr)}`);
  return tag;
}
