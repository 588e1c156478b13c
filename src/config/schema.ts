// The TOML config schema. Every table is strict: an unknown key is an error naming its path.
// Provider tables are checked twice: here for `type`, then against the type's own strict schema by
// the composition root (src/daemon/providers.ts), which reports `providers.NAME.KEY` paths too.
// Written as zod code, but recorded (src/core/deferred-schema.ts): zod loads only for a config the fast parse
// cannot vouch for, and then words the error.
import type { z as zod } from 'zod';
import { deferred, recorder } from '../core/deferred-schema.js';

const z = recorder<typeof zod>();

/** Where root's Docker finds the plugin; non-root defaults to `<runtime_dir>/docker.sock` instead. */
export const ROOT_DOCKER_SOCKET = '/run/docker/plugins/keyway.sock';

const absPath = z.string().min(1).refine((s) => s.startsWith('/'), { message: 'expected an absolute path' });
// A file mode: a quoted octal string ("0440") or a TOML octal number (0o440); permission bits only.
const MODE_EXPECTED = 'expected a file mode 0000-0777, quoted ("0440") or TOML octal (0o440)';
const mode = z.union(
  [
    z.number().int().min(0).max(0o777, { message: MODE_EXPECTED }),
    z.string().regex(/^0?[0-7]{3}$/, { message: MODE_EXPECTED }).transform((s) => parseInt(s, 8)),
  ],
  { error: MODE_EXPECTED },
);
const name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'expected lowercase letters, digits, "-" or "_" (1-63 chars)' });

const DURATION_EXPECTED = 'expected a duration such as "30s", "5m" or "250ms", or a number of seconds';
const duration = z.union([z.number().min(0, { message: DURATION_EXPECTED }), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)?$/, { message: DURATION_EXPECTED })], { error: DURATION_EXPECTED });

/** Broker policy keys, valid in [broker] (defaults) and in every [providers.NAME] (overrides). */
const policyShape = {
  cache_ttl: duration.optional(),
  negative_ttl: duration.optional(),
  max_stale: duration.optional(),
  timeout: duration.optional(),
  retries: z.number().int().min(0).max(10).optional(),
  concurrency: z.number().int().min(1).max(1024).optional(),
  rate_per_second: z.number().int().min(0).optional(),
  breaker_threshold: z.number().int().min(1).optional(),
  breaker_cooldown: duration.optional(),
};

const providerSchema = z.looseObject({ type: z.string().min(1), ...policyShape });

const pluginSchema = z.strictObject({
  path: absPath.optional(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { message: 'expected 64 lowercase hex digits' }).optional(),
  oci_image: z.string().optional(),
  runtime: z.enum(['runc', 'crun', 'runsc']).optional(),
  lifecycle: z.enum(['oneshot', 'serve']).default('oneshot'),
  dialect: z.enum(['keyway', 'podman']).default('keyway'),
  allow_network: z.boolean().default(false),
  sandbox: z.boolean().default(true),
  env: z.record(z.string(), z.string()).default({}),
  timeout_ms: z.number().int().positive().max(600_000).default(10_000),
  ro_binds: z.array(absPath).default([]),
  user: z.string().min(1).optional(),
  option_keys: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, { message: 'expected lowercase letters, digits or "_", starting with a letter (1-63 chars)' })).default([]),
});

const configRecording = z.strictObject({
  state_dir: absPath.optional(),
  runtime_dir: absPath.optional(),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).optional() }).default({}),
  api: z.strictObject({ enabled: z.boolean().default(true), socket: absPath.optional() }).default({ enabled: true }),
  docker: z.strictObject({ enabled: z.boolean().optional(), socket: absPath.default(ROOT_DOCKER_SOCKET) }).default({ socket: ROOT_DOCKER_SOCKET }),
  csi: z
    .strictObject({
      enabled: z.boolean().optional(),
      socket: absPath.default('/var/run/secrets-store-csi-providers/keyway.sock'),
      // Namespace (or "*") → targets its pods may mount: exact NAME/REF or a prefix ending in "*".
      access: z.record(z.string().min(1), z.array(z.string().min(1))).optional(),
      // A Mount is refused once its files pass the response limit or it names too many objects.
      max_objects: z.number().int().min(1).max(1000).default(1000),
      max_response_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
    })
    .default({ socket: '/var/run/secrets-store-csi-providers/keyway.sock', max_objects: 1000, max_response_bytes: 4 * 1024 * 1024 }),
  limits: z.strictObject({ max_secret_bytes: z.number().int().min(1).max(64 * 1024 * 1024).default(1024 * 1024) }).default({ max_secret_bytes: 1024 * 1024 }),
  local: z.strictObject({ key_file: absPath.optional() }).default({}),
  delivery: z.strictObject({ default_mode: mode.default(0o400), refresh_interval_s: z.number().int().min(0).default(0) }).default({ default_mode: 0o400, refresh_interval_s: 0 }),
  store: z.strictObject({ busy_timeout_ms: z.number().int().min(0).max(600_000).default(10_000) }).default({ busy_timeout_ms: 10_000 }),
  audit: z.strictObject({ retention_days: z.number().int().min(0).default(90) }).default({ retention_days: 90 }),
  broker: z.strictObject(policyShape).default({}),
  metrics: z
    .strictObject({
      listen: z.string().regex(/^[0-9a-zA-Z.:[\]-]+:\d{1,5}$/, { message: 'expected HOST:PORT' }).optional(),
      secret_names: z.boolean().default(false),
    })
    .default({ secret_names: false }),
  plugin_dir: absPath.optional(),
  // Where volume and CSI templates are read from (default /etc/keyway/templates, or the XDG config dir).
  templates: z.strictObject({ dir: absPath.optional() }).default({}),
  providers: z.record(name, providerSchema).default({}),
  plugins: z.record(name, pluginSchema).default({}),
});

export const configSchema = deferred(configRecording);

export type Config = zod.infer<typeof configRecording>;
export type PluginConfig = zod.infer<typeof pluginSchema>;
