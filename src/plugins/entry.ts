// A plugin catalog entry: what keyway needs to launch one plugin. Comes from `[plugins.NAME]` in
// config or from the SQLite catalog (`keyway plugin register`).
export type Lifecycle = 'oneshot' | 'serve';
export type Dialect = 'keyway' | 'podman';

export interface PluginEntry {
  readonly name: string;
  /** Absolute path of the executable (absent for OCI-image plugins). */
  readonly path?: string;
  /** Pinned sha256 of the executable, 64 lowercase hex. */
  readonly sha256?: string;
  /** IMAGE@sha256:DIGEST, run through podman (or docker). */
  readonly ociImage?: string;
  /** OCI runtime for image plugins: runc | crun | runsc. */
  readonly runtime?: string;
  readonly lifecycle: Lifecycle;
  readonly dialect: Dialect;
  readonly allowNetwork: boolean;
  /** Extra environment for the plugin (non-secret configuration). */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Run inside bubblewrap (default true). */
  readonly sandbox: boolean;
  /** Extra read-only binds inside the sandbox (e.g. a language runtime outside /usr). */
  readonly roBinds: readonly string[];
  /** User the plugin runs as: NAME, UID or UID:GID (default nobody; never root). */
  readonly user?: string;
  /** Query keys accepted in references (from `describe` at registration). */
  readonly optionKeys: readonly string[];
}

export const DEFAULT_TIMEOUT_MS = 10_000;
