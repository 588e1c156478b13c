// A throwaway rootful Podman store under a temp dir and a busybox image built from files on the
// fly, for OCI-image plugin tests (no registry, no pull).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import assert from 'node:assert/strict';

export function ociSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for rootful podman';
  if (!existsSync('/usr/bin/podman')) return 'podman is not installed (apt install podman)';
  if (!existsSync('/bin/busybox')) return 'busybox-static is not installed (apt install busybox-static)';
  return undefined;
}

export interface ImageFile {
  readonly body: string;
  readonly mode: number;
}

export interface TestImage {
  /** IMAGE@sha256:DIGEST */
  readonly ref: string;
  /** CONTAINERS_CONF / CONTAINERS_STORAGE_CONF for the private store. */
  readonly engineEnv: Record<string, string>;
}

const APPLETS = ['sh', 'cat', 'sed', 'ls', 'tr', 'touch', 'id', 'test', '['];

/** Builds `localhost/NAME:1` from busybox plus `files` (path in image → content), entrypoint /bin/plugin. */
export function buildImage(t: { after(fn: () => void): void }, dir: string, name: string, files: Readonly<Record<string, ImageFile>>): TestImage {
  const conf = join(dir, 'containers.conf');
  const storage = join(dir, 'storage.conf');
  writeFileSync(storage, `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/graph"\nrunroot = "${dir}/run"\n`);
  writeFileSync(conf, `[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "${dir}/events.log"\n[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\nnetns = "none"\n`);
  const root = join(dir, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'tmp'));
  copyFileSync('/bin/busybox', join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  for (const c of APPLETS) symlinkSync('busybox', join(root, 'bin', c));
  for (const [path, f] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), f.body);
    chmodSync(join(root, path), f.mode);
  }
  const engineEnv = { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
  const env = { PATH: '/usr/bin:/bin', ...engineEnv };
  const tar = join(dir, 'img.tar');
  assert.equal(spawnSync('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']).status, 0);
  const imp = spawnSync('podman', ['import', '--change', 'ENTRYPOINT ["/bin/plugin"]', tar, `localhost/${name}:1`], { env });
  assert.equal(imp.status, 0, imp.stderr.toString());
  const digest = spawnSync('podman', ['image', 'inspect', '--format', '{{.Digest}}', `localhost/${name}:1`], { env }).stdout.toString().trim();
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  t.after(() => void spawnSync('podman', ['rmi', '-af'], { env }));
  return { ref: `localhost/${name}@${digest}`, engineEnv };
}
