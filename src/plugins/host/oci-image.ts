// OCI-image plugin references: pinned by digest, and present in local storage (keyway never pulls).
import { spawnSync } from 'node:child_process';
import { KeywayError } from '../../core/errors.js';

const OCI_IMAGE_RE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/** Refuses an image reference that is not IMAGE@sha256:DIGEST. */
export function checkOciImageRef(image: string, where: string): void {
  if (!OCI_IMAGE_RE.test(image)) throw new KeywayError('invalid_argument', `${where}: OCI image ${JSON.stringify(image.slice(0, 200))} must be pinned as IMAGE@sha256:DIGEST`);
}

/** Refuses an image the engine does not have locally (it would fail every request). */
export function checkOciImagePresent(engine: string, image: string, engineEnv: Readonly<Record<string, string>>): void {
  const r = spawnSync(engine, ['image', 'exists', image], { stdio: 'ignore', env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...engineEnv }, timeout: 60_000 });
  if (r.error) throw new KeywayError('unavailable', `cannot run ${engine} to check image ${image}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status !== 0) throw new KeywayError('not_found', `image ${image} is not present locally (keyway never pulls; run ${engine} pull ${image} first)`);
}
