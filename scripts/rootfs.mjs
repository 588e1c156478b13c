// The root filesystem of keyway's OCI image and managed Docker plugin, made from this machine
// alone (no base image, no registry): the host's node binary and the shared libraries it loads
// (per ldd), util-linux mount/umount for the noswap tmpfs, and the npm-packed keyway installed
// with its production dependencies under /usr/local.
//
//   node scripts/rootfs.mjs DIR     → DIR/rootfs (and prints its path)
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installTarball, pack } from './npm-local.mjs';

/** Absolute paths of the shared objects `file` needs, the dynamic loader included. */
function sharedLibs(file) {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (r.status !== 0) return []; // statically linked
  const libs = [];
  for (const line of r.stdout.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

/** Copies `src` (following symlinks) to the same path under `root`. */
function copyIn(root, src, dest = src) {
  const to = join(root, dest);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(src), to);
  chmodSync(to, 0o755);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export function buildRootfs(dir) {
  const root = join(dir, 'rootfs');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['etc/keyway', 'var/lib/keyway', 'run/keyway', 'tmp', 'proc', 'sys', 'dev', 'usr/local/bin', 'bin', 'mnt/keyway', 'run/docker/plugins']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');

  // node, stripped of its debug info when binutils is here (about 12 MB less).
  const node = realpathSync(process.execPath);
  const nodeDest = join(root, 'usr', 'local', 'bin', 'node');
  const strip = which('strip');
  if (!strip || spawnSync(strip, ['-o', nodeDest, node]).status !== 0) copyIn(root, node, '/usr/local/bin/node');
  chmodSync(nodeDest, 0o755);

  const binaries = [node];
  for (const tool of ['mount', 'umount']) {
    const p = which(tool);
    if (!p) throw new Error(`${tool} not found (apt-get install mount)`);
    copyIn(root, p, `/bin/${tool}`);
    binaries.push(p);
  }

  const work = mkdtempSync(join(tmpdir(), 'keyway-rootfs-pack-'));
  try {
    installTarball(pack(work), join(root, 'usr', 'local'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const pkg = join(root, 'usr', 'local', 'lib', 'node_modules', 'keyway');
  // SQLite's C sources and docs are not needed at run time; the compiled addon is.
  const sqlite = join(pkg, 'node_modules', 'better-sqlite3');
  for (const d of ['deps', 'src']) rmSync(join(sqlite, d), { recursive: true, force: true });
  // Type declarations, source maps, TypeScript sources and docs are not needed at run time.
  const prune = (p) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const f = join(p, e.name);
      if (e.isDirectory()) {
        if (e.name === '@types') rmSync(f, { recursive: true, force: true });
        else prune(f);
      } else if (/\.(d\.[cm]?ts|[cm]?ts|map|md|markdown)$/i.test(e.name) || /^(CHANGELOG|HISTORY)/i.test(e.name)) rmSync(f, { force: true });
    }
  };
  prune(join(pkg, 'node_modules'));
  rmSync(join(pkg, 'docs'), { recursive: true, force: true });
  const addons = [];
  const findAddons = (p) => {
    for (const e of readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) findAddons(join(p, e.name));
      else if (e.name.endsWith('.node')) addons.push(join(p, e.name));
    }
  };
  findAddons(join(pkg, 'node_modules'));

  const libs = new Set([...binaries, ...addons].flatMap(sharedLibs));
  for (const lib of libs) if (!existsSync(join(root, lib))) copyIn(root, lib);
  return root;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: rootfs.mjs DIR');
    process.exit(2);
  }
  console.log(buildRootfs(resolve(dir)));
}
