// The one container image builder, without a registry: a rootfs holding the static busybox
// (Debian's busybox-static) plus one symlink per applet and any files a test adds, tarred, then
// `docker import`ed or `podman import`ed by whoever needs it.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureTools } from './tools.js';

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const APPLETS = [
  'sh', 'cat', 'ls', 'stat', 'sleep', 'id', 'od', 'sha256sum', 'test', '[', 'echo', 'wc', 'cp', 'mkdir', 'grep', 'sed', 'tr', 'touch',
  'true', 'false', 'mount', 'df', 'head', 'readlink', 'printf', 'env',
];
const DEFAULT_CHANGES = ['CMD ["/bin/sh"]', 'ENV PATH=/bin'];

export interface ImageFile {
  readonly body: string;
  readonly mode: number;
}

let tarball: string | undefined;

/** A static busybox binary, or undefined (then tests skip, naming `busybox-static`). */
function staticBusybox(): string | undefined {
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

/** Writes the busybox rootfs plus `files` (path in the image → content) under `dir` and tars it to `tar`. */
export function writeRootfsTar(dir: string, tar: string, files: Readonly<Record<string, ImageFile>> = {}): void {
  const busybox = staticBusybox();
  if (!busybox) throw new Error('no static busybox found (apt-get install busybox-static)');
  const root = join(dir, 'rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'run/secrets', 'proc', 'sys', 'dev']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  for (const [path, f] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), f.body);
    chmodSync(join(root, path), f.mode);
  }
  const r = spawnSync('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
  if (r.status !== 0) throw new Error(`tar failed: ${String(r.stderr)}`);
}

/**
 * Path of a tar of the plain busybox rootfs, built once per process and removed at exit. Readable
 * by every user (it holds only busybox), so a rootless test user can import it too.
 */
function busyboxRootfsTar(): string {
  if (tarball && existsSync(tarball)) return tarball;
  const dir = mkdtempSync(join(tmpdir(), 'keyway-rootfs-'));
  chmodSync(dir, 0o755);
  const out = join(dir, 'busybox-rootfs.tar');
  writeRootfsTar(dir, out);
  chmodSync(out, 0o644);
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  tarball = out;
  return out;
}

/** Imports the busybox rootfs with `docker import` (env carries DOCKER_HOST) and returns the tag. */
export function importDockerImage(env: NodeJS.ProcessEnv, tag = 'keyway-test/busybox:latest'): string {
  const r = spawnSync('docker', ['import', ...DEFAULT_CHANGES.flatMap((c) => ['--change', c]), busyboxRootfsTar(), tag], { env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`docker import failed: ${String(r.stderr)}`);
  return tag;
}

export interface PodmanImport {
  readonly tag?: string;
  /** A tar from writeRootfsTar; the shared busybox rootfs by default. */
  readonly tar?: string;
  /** Dockerfile instructions for `--change`; CMD /bin/sh and PATH=/bin by default. */
  readonly changes?: readonly string[];
}

export const PODMAN_TEST_IMAGE = 'localhost/keyway-test/busybox:latest';

/** podman's arguments to import a rootfs tar (for callers that run podman their own way, e.g. as another user). */
export function podmanImportArgs(opts: PodmanImport = {}): string[] {
  return ['import', '--quiet', ...(opts.changes ?? DEFAULT_CHANGES).flatMap((c) => ['--change', c]), opts.tar ?? busyboxRootfsTar(), opts.tag ?? PODMAN_TEST_IMAGE];
}

/** Imports a rootfs tar with `podman import` (env carries CONTAINERS_CONF etc.) and returns the tag. */
export function importPodmanImage(env: NodeJS.ProcessEnv, opts: PodmanImport = {}): string {
  const r = spawnSync('podman', podmanImportArgs(opts), { env, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`podman import failed: ${String(r.stderr)}`);
  return opts.tag ?? PODMAN_TEST_IMAGE;
}
