// `npm run image`: builds the OCI image localhost/keyway:<version> with Podman from a root
// filesystem made on this machine (scripts/rootfs.mjs) — `podman import`, no base image, no pulls.
// Podman's own environment (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF) picks the store.
//
//   node scripts/build-image.mjs [TAG]     default TAG: localhost/keyway:<package version>
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO } from './npm-local.mjs';
import { buildRootfs } from './rootfs.mjs';

export const ENTRYPOINT = ['/usr/local/bin/node', '/usr/local/lib/node_modules/keyway/dist/cli.js'];

export function defaultTag() {
  const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  return `localhost/keyway:${version}`;
}

function must(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Builds and tags the image; returns { tag, size } (size in bytes, uncompressed). */
export function buildImage(tag = defaultTag()) {
  const work = mkdtempSync(join(tmpdir(), 'keyway-image-'));
  try {
    const root = buildRootfs(work);
    const tar = join(work, 'rootfs.tar');
    must('tar', ['-C', root, '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
    const version = tag.slice(tag.lastIndexOf(':') + 1);
    must('podman', [
      'import',
      '--change', `ENTRYPOINT ${JSON.stringify(ENTRYPOINT)}`,
      '--change', 'CMD ["serve"]',
      '--change', 'ENV PATH=/usr/local/bin:/bin',
      '--change', 'WORKDIR /',
      '--change', 'LABEL org.opencontainers.image.title=keyway',
      '--change', `LABEL org.opencontainers.image.version=${version}`,
      '--message', `keyway ${version}`,
      tar,
      tag,
    ]);
    const size = Number(must('podman', ['image', 'inspect', '--format', '{{.Size}}', tag]).trim());
    return { tag, size };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { tag, size } = buildImage(process.argv[2]);
  console.log(`built ${tag} (${(size / 1e6).toFixed(1)} MB uncompressed)`);
}
