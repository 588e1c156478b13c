// OCI-image plugin references: pinned by digest, and present in local storage (keyway never pulls).
import { KeywayError, throwIfAborted } from '../../core/errors.js';
import { ENGINE_PATH } from '../../core/process/engine-env.js';
import { Supervised, TOOL_GRACE_MS } from '../../core/process/supervise.js';

const OCI_IMAGE_RE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/** Refuses an image reference that is not IMAGE@sha256:DIGEST. */
export function checkOciImageRef(image: string, where: string): void {
  if (!OCI_IMAGE_RE.test(image)) throw new KeywayError('invalid_argument', `${where}: OCI image ${JSON.stringify(image.slice(0, 200))} must be pinned as IMAGE@sha256:DIGEST`);
}

/** Refuses an image the engine does not have locally (it would fail every request). */
export async function checkOciImagePresent(engine: string, image: string, engineEnv: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<void> {
  const deadline = AbortSignal.timeout(60_000);
  // No sweep: rootless Podman's pause process may stay in the group of this podman command.
  const proc = new Supervised({
    file: engine,
    args: ['image', 'exists', image],
    stdio: 'ignore',
    env: { PATH: ENGINE_PATH, ...engineEnv },
    sweep: false,
    graceMs: TOOL_GRACE_MS,
    signal: signal ? AbortSignal.any([deadline, signal]) : deadline,
  });
  const r = await proc.exited;
  const cannot = (why: string): KeywayError => new KeywayError('unavailable', `cannot run ${engine} to check image ${image}: ${why}`);
  if (r.spawnError) throw cannot(r.spawnError.code ?? r.spawnError.message);
  if (r.aborted) {
    throwIfAborted(signal, `${engine} image exists`);
    throw cannot('ETIMEDOUT');
  }
  if (r.code !== 0) throw new KeywayError('not_found', `image ${image} is not present locally (keyway never pulls; run ${engine} pull ${image} first)`);
}
