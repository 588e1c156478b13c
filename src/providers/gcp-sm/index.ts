// `gcp-sm`: Google Secret Manager over its documented REST API (v1, `:access`), no SDK.
// Paths: `projects/P/secrets/S[/versions/V]`, `P/S`, or `S` with the default project.
// Options: version (a number, `latest` or an alias). Payloads are checked against dataCrc32c.
// This file declares the type (options, query keys, operations); ./provider.ts, its implementation,
// is imported on an instance's first operation (core/lazy-provider.ts).
import type { z as zod } from 'zod';
import { defineProvider } from '../factory.js';
import { absolutePath, httpUrl, requestTimeoutMs, z } from '../kit/options.js';

const gcpSmOptions = () => z.strictObject({
  /** Project for paths that name only a secret; default the key's or the metadata server's project. */
  project: z.string().regex(/^[A-Za-z0-9.:-]{1,100}$/).optional(),
  endpoint: httpUrl().default('https://secretmanager.googleapis.com'),
  /** `auto`: token_file if set, else credentials_file / GOOGLE_APPLICATION_CREDENTIALS, else the metadata server. */
  auth: z.enum(['auto', 'token_file', 'service_account', 'metadata']).default('auto'),
  /** Service account JSON key. */
  credentials_file: absolutePath().optional(),
  /** A file holding an OAuth2 access token, re-read on every request (kept fresh by another agent). */
  token_file: absolutePath().optional(),
  /** Metadata server base URL; default http://$GCE_METADATA_HOST or http://metadata.google.internal. */
  metadata_endpoint: httpUrl().optional(),
  /** Refuse payloads that come without a dataCrc32c checksum. */
  require_checksum: z.boolean().default(false),
  timeout_ms: requestTimeoutMs(),
});
export type GcpSmConfig = zod.infer<ReturnType<typeof gcpSmOptions>>;

export const gcpSmFactory = defineProvider({
  type: 'gcp-sm',
  description: 'Google Secret Manager (versions:access with CRC32C check; service account key, metadata server or token file)',
  options: gcpSmOptions,
  usableWithoutConfig: true,
  optionKeys: ['version'],
  ops: ['version'],
  async load() {
    const { GcpSmProvider } = await import('../implementations.js');
    return (name, config, deps) => new GcpSmProvider(name, config, deps.env);
  },
});
