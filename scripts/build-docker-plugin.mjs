// `npm run docker-plugin`: builds the managed Docker plugin keyway/keyway:<version> from the root
// filesystem made on this machine (scripts/rootfs.mjs) and deploy/docker-plugin/config.json, with
// `docker plugin create` — no base image, no pulls. The docker CLI's environment (DOCKER_HOST)
// picks the daemon. The plugin is left installed and disabled; a plugin of the same name is
// replaced only when it is disabled.
//
//   node scripts/build-docker-plugin.mjs [NAME]     default NAME: keyway/keyway:<package version>
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from './npm-local.mjs';
import { buildRootfs } from './rootfs.mjs';

export function defaultPluginName() {
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  return `keyway/keyway:${version}`;
}

function docker(args) {
  return spawnSync('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
}

export function buildDockerPlugin(name = defaultPluginName()) {
  const work = mkdtempSync(join(tmpdir(), 'keyway-plugin-'));
  try {
    buildRootfs(work);
    copyFileSync(join(REPO, 'deploy', 'docker-plugin', 'config.json'), join(work, 'config.json'));
    const existing = docker(['plugin', 'inspect', '--format', '{{.Enabled}}', name]);
    if (existing.status === 0) {
      if (existing.stdout.trim() === 'true') throw new Error(`${name} is installed and enabled; disable it first (docker plugin disable ${name})`);
      const rm = docker(['plugin', 'rm', name]);
      if (rm.status !== 0) throw new Error(`docker plugin rm ${name} failed: ${rm.stderr}`);
    }
    const r = docker(['plugin', 'create', name, work]);
    if (r.status !== 0) throw new Error(`docker plugin create failed: ${r.stderr}`);
    return name;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const name = buildDockerPlugin(process.argv[2]);
  console.log(`created ${name} (disabled); enable it with: docker plugin enable ${name}`);
}
