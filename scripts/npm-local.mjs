// Packs keyway and installs the tarball the way a user would (`npm i -g keyway-<version>.tgz`),
// without reaching any registry but npm's, and without a compiler: better-sqlite3's install step
// (prebuild-install) is handed this checkout's already-built addon as a "local prebuild", so it
// neither downloads one from GitHub nor compiles SQLite (which takes minutes on a small machine).
//
//   node scripts/npm-local.mjs pack DEST_DIR            → prints the tarball path
//   node scripts/npm-local.mjs install TARBALL PREFIX [NPM_ARGS...]   → npm i -g --prefix PREFIX TARBALL
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout;
}

/** `npm pack` of the current build into `dest`; returns the tarball's path. */
export function pack(dest) {
  mkdirSync(dest, { recursive: true });
  if (!existsSync(join(REPO, 'dist', 'cli.js'))) run('npm', ['run', 'build', '--silent'], { cwd: REPO });
  // --ignore-scripts: prepack would rebuild dist/ under whoever else is using it right now.
  const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], { cwd: REPO });
  const [info] = JSON.parse(out);
  return join(dest, info.filename);
}

/**
 * Writes prebuild-install tarballs for the native dependencies into `dir`, named the way
 * prebuild-install looks them up ({name}-v{version}-node-v{abi}-{platform}-{arch}.tar.gz, glibc),
 * and returns the environment that points prebuild-install at them.
 */
export function localPrebuilds(dir) {
  mkdirSync(dir, { recursive: true });
  const env = {};
  for (const name of ['better-sqlite3']) {
    const root = join(REPO, 'node_modules', name);
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const addon = join('build', 'Release', `${name.replace(/-/g, '_')}.node`);
    if (!existsSync(join(root, addon))) throw new Error(`${name} is not built in this checkout (${addon} missing); run npm ci`);
    const file = `${name}-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    run('tar', ['-czf', join(dir, file), '-C', root, addon]);
    env[`npm_config_${name.replace(/[^a-zA-Z0-9]/g, '_')}_local_prebuilds`] = dir;
  }
  return env;
}

/**
 * `npm i -g --prefix PREFIX TARBALL`, preferring npm's cache (filled by `npm ci`) over the network
 * and the local prebuilds over a compile. Returns npm's combined output.
 */
export function installTarball(tarball, prefix, extraArgs = []) {
  const scratch = mkdtempSync(join(tmpdir(), 'keyway-prebuilds-'));
  try {
    const env = { ...process.env, ...localPrebuilds(scratch) };
    return run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier', ...extraArgs, resolve(tarball)],
      { env, cwd: scratch },
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [verb, a, b, ...rest] = process.argv.slice(2);
  if (verb === 'pack' && a) console.log(pack(resolve(a)));
  else if (verb === 'install' && a && b) process.stdout.write(installTarball(a, resolve(b), rest));
  else {
    console.error('usage: npm-local.mjs pack DEST_DIR | install TARBALL PREFIX [NPM_ARGS...]');
    process.exit(2);
  }
}
