// `keyway plugin register` and `import`: pin the executable's hash as it is now (or check the one
// given), launch it once to read `describe` (option keys, ops), and detect the Podman dialect when
// describe does not come back as a protocol v1 frame.
import { KeywayError } from '../core/errors.js';
import type { NewPlugin } from '../store/plugins.js';
import { validatePluginName } from './catalog.js';
import { DEFAULT_TIMEOUT_MS, type Dialect, type Lifecycle, type PluginEntry } from './entry.js';
import { resolveUserBinds } from './host/binds.js';
import { checkPluginDir, constantTimeHexEqual, hashTrustedFile, SHA256_RE } from './host/executable.js';
import { PluginHost } from './host/host.js';
import { answeredWithoutFrames } from './host/process.js';
import { hostRunAs, type HostDeps } from './host/launcher.js';
import { resolveRunAs } from './host/user.js';
import { checkOciImagePresent, checkOciImageRef } from './host/oci-image.js';
import type { Describe } from './protocol.js';

export interface RegisterInput {
  readonly name: string;
  readonly path?: string;
  readonly sha256?: string;
  readonly ociImage?: string;
  readonly runtime?: string;
  readonly lifecycle?: Lifecycle;
  /** Undefined: detect (keyway if describe works, else podman). */
  readonly dialect?: Dialect;
  readonly allowNetwork?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  readonly sandbox?: boolean;
  readonly roBinds?: readonly string[];
  /** User the plugin runs as (default nobody). */
  readonly user?: string;
  readonly timeoutMs?: number;
  readonly optionKeys?: readonly string[];
  /** Where it came from, for `inspect` (e.g. "containers.conf /etc/containers/containers.conf"). */
  readonly source?: string;
}

export interface Registration {
  readonly record: NewPlugin;
  readonly describe?: Describe;
  /** Why the Podman dialect was chosen, when it was detected. */
  readonly detected?: string;
}

const PODMAN_HINT = 'if it speaks the Podman design doc\'s protocol, pass --dialect podman';

export interface Detected {
  readonly dialect: Dialect;
  readonly describe?: Describe;
  /** Why the Podman dialect was chosen, when it was detected. */
  readonly detected?: string;
}

/**
 * Runs describe. Only a plugin that ran and answered with something other than protocol v1
 * frames is taken for the Podman dialect; any other failure (it cannot start, crashed, timed out,
 * was refused) is the caller's error, with the plugin's own message.
 */
export async function detectDialect(entry: PluginEntry, deps: HostDeps, signal: AbortSignal): Promise<Detected> {
  const host = new PluginHost({ ...entry, dialect: 'keyway' }, deps);
  try {
    return { dialect: 'keyway', describe: await host.describe(signal) };
  } catch (e) {
    if (answeredWithoutFrames(e)) return { dialect: 'podman', detected: `describe was not answered with a protocol v1 frame (${(e as KeywayError).message}), so the plugin is taken to speak the Podman dialect` };
    if (e instanceof KeywayError && e.code !== 'checksum_mismatch' && e.code !== 'permission_denied') throw new KeywayError(e.code, `${e.message} (${PODMAN_HINT})`, { cause: e });
    throw e;
  } finally {
    await host.close();
  }
}

export function buildEntry(input: RegisterInput, sha256: string | undefined, dialect: Dialect, optionKeys: readonly string[]): PluginEntry {
  return {
    name: input.name,
    ...(input.path !== undefined ? { path: input.path } : {}),
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(input.ociImage !== undefined ? { ociImage: input.ociImage } : {}),
    ...(input.runtime !== undefined ? { runtime: input.runtime } : {}),
    lifecycle: dialect === 'podman' ? 'oneshot' : (input.lifecycle ?? 'oneshot'),
    dialect,
    allowNetwork: input.allowNetwork ?? false,
    env: input.env ?? {},
    timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    sandbox: input.sandbox ?? true,
    roBinds: input.roBinds ?? [],
    ...(input.user !== undefined ? { user: input.user } : {}),
    optionKeys,
  };
}

/** Pins the hash (checking a given one), reads describe, returns the record to store. */
export async function prepareRegistration(input: RegisterInput, deps: HostDeps, signal: AbortSignal): Promise<Registration> {
  validatePluginName(input.name);
  if ((input.path === undefined) === (input.ociImage === undefined)) throw new KeywayError('invalid_argument', 'give either a PATH or --oci-image IMAGE@sha256:DIGEST');
  let sha: string | undefined;
  if (input.path !== undefined) {
    const real = checkPluginDir(input.path, deps.pluginDir);
    const actual = hashTrustedFile(real);
    if (input.sha256 !== undefined) {
      if (!SHA256_RE.test(input.sha256)) throw new KeywayError('invalid_argument', '--sha256 must be 64 lowercase hex digits');
      if (!constantTimeHexEqual(actual, input.sha256)) throw new KeywayError('checksum_mismatch', `${input.path}: checksums did not match (given ${input.sha256.slice(0, 12)}..., file has ${actual.slice(0, 12)}...)`);
    }
    sha = actual;
  }
  // Refuse at register what would be refused at every spawn: binds onto keyway's state, root.
  const draft = buildEntry(input, sha, 'keyway', []);
  if (input.ociImage !== undefined) {
    // Exactly the checks a config entry gets at load, then: is it there to run?
    checkOciImageRef(input.ociImage, `plugin ${input.name}`);
    await checkOciImagePresent(deps.ociEngine ?? 'podman', input.ociImage, deps.ociEngineEnv ?? {}, signal);
    if (draft.roBinds.length > 0) throw new KeywayError('invalid_argument', `plugin ${input.name}: --ro-bind is not supported for OCI-image plugins; put the files in the image`);
    resolveRunAs(draft.user, `plugin ${input.name}`);
  } else {
    resolveUserBinds(draft.roBinds, deps.hide);
    hostRunAs(draft, deps);
  }
  let dialect: Dialect = input.dialect ?? 'keyway';
  let describe: Describe | undefined;
  let detected: string | undefined;
  if (input.dialect === 'keyway') {
    const host = new PluginHost(draft, deps);
    try {
      describe = await host.describe(signal);
    } finally {
      await host.close();
    }
  } else if (input.dialect === undefined) {
    ({ dialect, describe, detected } = await detectDialect(draft, deps, signal));
    if (dialect === 'podman' && input.lifecycle === 'serve') {
      throw new KeywayError('invalid_argument', `plugin ${input.name} does not answer describe with protocol v1 frames, so it cannot be a serve plugin (${detected ?? ''})`);
    }
  }
  const optionKeys = [...new Set([...(describe?.optionKeys ?? []), ...(input.optionKeys ?? [])])];
  const entry = buildEntry(input, sha, dialect, optionKeys);
  const record: NewPlugin = {
    name: entry.name,
    path: entry.path ?? null,
    sha256: entry.sha256 ?? null,
    ociImage: entry.ociImage ?? null,
    runtime: entry.runtime ?? null,
    lifecycle: entry.lifecycle,
    dialect: entry.dialect,
    allowNetwork: entry.allowNetwork,
    env: entry.env,
    options: {
      sandbox: entry.sandbox,
      ro_binds: entry.roBinds,
      ...(entry.user !== undefined ? { user: entry.user } : {}),
      option_keys: entry.optionKeys,
      timeout_ms: entry.timeoutMs,
      ops: describe?.ops ?? ['lookup'],
      ...(describe?.pluginVersion ? { plugin_version: describe.pluginVersion } : {}),
      ...(input.source ? { source: input.source } : {}),
    },
  };
  return { record, ...(describe ? { describe } : {}), ...(detected ? { detected } : {}) };
}
