// The composition root: the only place that reads config files and process.env, and wires
// config into store, providers, broker. CLI commands and `keyway serve` both start here.
import { KeywayError, toKeywayError } from '../core/errors.js';
import { createLogger, LOG_FORMATS, type LogFormat, type LogLevel, type Logger } from '../core/logger.js';
import { loadConfig } from '../config/load.js';
import { resolveLocations } from '../config/paths.js';
import { hostUid } from '../delivery/userns/podman-ns.js';
import type { Config } from '../config/schema.js';
import { openDb, type Db } from '../store/db.js';
import { SecretsRepo } from '../store/secrets.js';
import { AuditLog } from '../store/audit.js';
import { ProviderRegistry, type ProviderSource } from '../broker/registry.js';
import { Broker } from '../broker/broker.js';
import { NamedSecrets } from '../broker/named-secrets.js';
import { BUILTIN_PROVIDERS } from '../providers/builtin.js';
import { configuredProviders, providerPolicies } from './providers.js';
import { pluginSource } from './plugins.js';
import type { BrokerMetrics } from '../broker/metrics.js';
import { DEFAULT_POLICY } from '../broker/policy.js';

export interface GlobalOptions {
  readonly config?: string;
  readonly stateDir?: string;
  readonly runtimeDir?: string;
  readonly logLevel?: string;
  readonly logFormat?: string;
}

export interface Settings {
  readonly config: Config;
  readonly configPath: string;
  readonly stateDir: string;
  readonly runtimeDir: string;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly isRoot: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Context extends Settings {
  readonly logger: Logger;
  readonly db: Db;
  readonly secrets: SecretsRepo;
  readonly audit: AuditLog;
  readonly registry: ProviderRegistry;
  readonly broker: Broker;
  readonly named: NamedSecrets;
  /** Only the daemon keeps metrics (a CLI call would only pay for counting). */
  readonly metrics?: BrokerMetrics;
  close(): Promise<void>;
}

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Reads flags, env and the config file (no side effects on disk). */
export function loadSettings(flags: GlobalOptions, defaultLevel: LogLevel = 'warn'): Settings {
  const env = { ...process.env };
  // Inside rootless Podman's namespace the user's uid reads as 0; locations follow the real one.
  const uid = hostUid();
  const loc = resolveLocations({ uid, env, flags });
  const config = loadConfig(loc.configPath, loc.configExplicit);
  const levelText = flags.logLevel ?? env.KEYWAY_LOG_LEVEL ?? config.log.level ?? defaultLevel;
  if (!(LEVELS as readonly string[]).includes(levelText)) throw new KeywayError('invalid_argument', `--log-level: expected one of ${LEVELS.join(', ')}`);
  const formatText = flags.logFormat ?? env.KEYWAY_LOG_FORMAT ?? 'auto';
  if (!(LOG_FORMATS as readonly string[]).includes(formatText)) throw new KeywayError('invalid_argument', `--log-format: expected one of ${LOG_FORMATS.join(', ')}`);
  return {
    config,
    configPath: loc.configPath,
    // Flags and env beat the file; the file beats built-in defaults.
    stateDir: flags.stateDir ?? env.KEYWAY_STATE_DIR ?? config.state_dir ?? loc.stateDir,
    runtimeDir: flags.runtimeDir ?? env.KEYWAY_RUNTIME_DIR ?? config.runtime_dir ?? loc.runtimeDir,
    logLevel: levelText as LogLevel,
    logFormat: formatText as LogFormat,
    isRoot: uid === 0,
    env,
  };
}

export interface ContextOptions {
  readonly metrics?: (secretNames: boolean) => BrokerMetrics;
}

export function openContext(flags: GlobalOptions, defaultLevel: LogLevel = 'warn', opts: ContextOptions = {}): Context {
  const settings = loadSettings(flags, defaultLevel);
  const logger = createLogger(settings.logLevel, 2, settings.logFormat);
  const db = openDb(settings.stateDir, settings.config.store.busy_timeout_ms);
  const secrets = new SecretsRepo(db);
  const audit = new AuditLog(db, {
    onError: (err, queued, dropped) => logger.warn({ err: toKeywayError(err).message, queued, dropped }, 'audit write failed; keeping the entries and retrying'),
  });
  const base = { ...settings, logger, db, secrets, audit };
  const deps = { logger, db, stateDir: settings.stateDir, env: settings.env };
  const sources: ProviderSource[] = [
    configuredProviders(settings.config, BUILTIN_PROVIDERS, deps, settings.configPath),
    // Registered plugins come after configured providers and built-ins: a plugin cannot shadow them.
    pluginSource({ logger, config: settings.config, stateDir: settings.stateDir, runtimeDir: settings.runtimeDir, configPath: settings.configPath, isRoot: settings.isRoot, audit, env: settings.env }, db),
  ];
  const registry = new ProviderRegistry(sources);
  const policies = providerPolicies(settings.config, DEFAULT_POLICY);
  const metrics = opts.metrics?.(settings.config.metrics.secret_names);
  const broker = new Broker({
    registry,
    secrets,
    audit,
    logger,
    maxSecretBytes: settings.config.limits.max_secret_bytes,
    defaultPolicy: policies.defaults,
    policies: policies.perProvider,
    ...(metrics ? { metrics } : {}),
  });
  const named = new NamedSecrets(broker, secrets, audit, settings.config.limits.max_secret_bytes);
  let closed = false;
  return {
    ...base,
    registry,
    broker,
    named,
    ...(metrics ? { metrics } : {}),
    async close() {
      if (closed) return;
      closed = true;
      await registry.closeAll();
      audit.flush();
      db.close();
    },
  };
}

/** Runs fn with an open context and closes the context, whatever fn does. */
export async function usingContext<T>(ctx: Context, fn: (ctx: Context) => Promise<T>): Promise<T> {
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
