// Packs keyway and installs the tarball the way a user would (`npm i -g keyway-<version>.tgz`),
// preferring npm's cache (filled by `npm ci`) over the registry. keyway has no native addon, so
// nothing is compiled or downloaded from anywhere but npm's registry.
//
//   node scripts/npm-local.mjs pack DEST_DIR            → prints the tarball path
//   node scripts/npm-local.mjs install TARBALL PREFIX [NPM_ARGS...]   → npm i -g --prefix PREFIX TARBALL
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
 * `npm i -g --prefix PREFIX TARBALL`, preferring npm's cache (filled by `npm ci`) over the network.
 * Returns npm's combined output.
 */
export function installTarball(tarball, prefix, extraArgs = []) {
  const scratch = mkdtempSync(join(tmpdir(), 'keyway-install-'));
  try {
    return run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier', ...extraArgs, resolve(tarball)],
      { cwd: scratch },
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
