// A throwaway rootful Podman store under a temp dir (test/helpers/podman.ts's config) and a busybox
// image with the plugin's files added (test/helpers/images.ts's builder), for OCI-image plugin tests
// (no registry, no pull).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { importPodmanImage, writeRootfsTar, type ImageFile } from '../helpers/images.js';
import { writePodmanConf } from '../helpers/podman.js';

export type { ImageFile };

export interface TestImage {
  /** IMAGE@sha256:DIGEST */
  readonly ref: string;
  /** CONTAINERS_CONF / CONTAINERS_STORAGE_CONF for the private store. */
  readonly engineEnv: Record<string, string>;
}

/** Builds `localhost/NAME:1` from busybox plus `files` (path in image → content), entrypoint /bin/plugin. */
export function buildImage(t: { after(fn: () => void): void }, dir: string, name: string, files: Readonly<Record<string, ImageFile>>): TestImage {
  const engineEnv = writePodmanConf(dir);
  const env = { PATH: '/usr/bin:/bin', ...engineEnv };
  const tar = join(dir, 'img.tar');
  writeRootfsTar(dir, tar, files);
  const tag = importPodmanImage(env, { tar, tag: `localhost/${name}:1`, changes: ['ENTRYPOINT ["/bin/plugin"]'] });
  const digest = spawnSync('podman', ['image', 'inspect', '--format', '{{.Digest}}', tag], { env }).stdout.toString().trim();
  assert.match(digest, /^sha256:[0-9a-f]{64}$/);
  t.after(() => void spawnSync('podman', ['rmi', '-af'], { env }));
  return { ref: `localhost/${name}@${digest}`, engineEnv };
}
