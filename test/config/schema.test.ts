import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UNSURE } from '../../src/core/deferred-schema.js';
import { configSchema } from '../../src/config/schema.js';

/** What the fast parse says agrees with zod: same value, same key order; else it defers. */
function agrees(value: unknown): 'fast' | 'zod' {
  const fast = configSchema.fast(value);
  if (fast === UNSURE) return 'zod';
  const real = configSchema.schema().safeParse(value);
  assert.ok(real.success, `the fast parse accepted what zod refuses: ${JSON.stringify(value)}: ${real.error?.message}`);
  assert.deepStrictEqual(fast, real.data);
  assert.equal(JSON.stringify(fast), JSON.stringify(real.data));
  return 'fast';
}

test('the config fast parse gives the same defaults as zod and needs no zod for them', () => {
  assert.equal(agrees({}), 'fast');
  const a = configSchema.parse({});
  const b = configSchema.parse({});
  // Defaults are copies: changing one parsed config does not change the next.
  assert.notEqual(a.csi, b.csi);
  assert.notEqual(a.providers, b.providers);
});

test('common configs take the fast parse and match zod', () => {
  const samples: unknown[] = [
    { docker: { enabled: false }, csi: { enabled: false } },
    { state_dir: '/var/lib/k', log: { level: 'debug' }, api: { enabled: true, socket: '/run/k.sock' } },
    { delivery: { default_mode: '0440' }, broker: { cache_ttl: '30s', retries: 2, timeout: 5 } },
    { delivery: { default_mode: 0o440, refresh_interval_s: 60 }, metrics: { listen: '127.0.0.1:9464', secret_names: true } },
    { providers: { 'prod-vault': { type: 'vault', address: 'https://v:8200', cache_ttl: '1m', extra: { a: [1] } } } },
    { plugins: { 'my-plugin': { path: '/opt/p', sha256: 'a'.repeat(64), env: { A: 'b' }, ro_binds: ['/etc/ssl'], option_keys: ['field'] } } },
    { csi: { access: { '*': ['app*', 'db'] }, max_objects: 10 }, templates: { dir: '/etc/t' }, local: { key_file: '/k' } },
  ];
  for (const s of samples) assert.equal(agrees(s), 'fast', JSON.stringify(s));
});

const POLICY = ['cache_ttl', 'negative_ttl', 'max_stale', 'timeout', 'retries', 'concurrency', 'rate_per_second', 'breaker_threshold', 'breaker_cooldown'];
/** The config's tables and their keys (plus a stray one), so that many generated configs are valid. */
const TABLES: Record<string, string[]> = {
  log: ['level'],
  api: ['enabled', 'socket'],
  docker: ['enabled', 'socket'],
  csi: ['enabled', 'socket', 'access', 'max_objects', 'max_response_bytes'],
  limits: ['max_secret_bytes'],
  local: ['key_file'],
  delivery: ['default_mode', 'refresh_interval_s'],
  store: ['busy_timeout_ms'],
  audit: ['retention_days'],
  broker: POLICY,
  metrics: ['listen', 'secret_names'],
  templates: ['dir'],
};
const PROVIDER = ['type', 'address', ...POLICY];
const PLUGIN = ['path', 'sha256', 'oci_image', 'runtime', 'lifecycle', 'dialect', 'allow_network', 'sandbox', 'env', 'timeout_ms', 'ro_binds', 'user', 'option_keys'];
const SCALARS = ['state_dir', 'runtime_dir', 'plugin_dir'];

const leaf = fc.oneof(
  fc.constantFrom('/abs', 'rel', '', '0440', '440', '0999', '30s', '5m', '250ms', '1.5h', '-1s', 'info', 'nope', 'oneshot', 'serve', 'keyway', 'podman', 'runc', 'a'.repeat(64), '127.0.0.1:9090', 'vault', 'x*', 'field', 'Field'),
  fc.constantFrom(0, 1, 5, 10, 100, 1024, 0o440, 0o777, 0o1000, 1.5, -1, 600_000, 600_001, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY),
  fc.boolean(),
);
const paths = fc.constantFrom('/abs', '/var/lib/x', 'rel', '');
const durations = fc.constantFrom('30s', '5m', '250ms', '1.5h', '10', '-1s', 30, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY);
const ints = fc.constantFrom(0, 1, 5, 10, 100, 1024, 600_000, 600_001, 64 * 1024 * 1024, 64 * 1024 * 1024 + 1, 2 ** 53, -1, 1.5, Number.POSITIVE_INFINITY, '10');
const bools = fc.constantFrom(true, false, 'true', 0);
/** Plausible values for a key (most of them valid), sometimes anything. */
function valueFor(key: string): fc.Arbitrary<unknown> {
  const kind: fc.Arbitrary<unknown> | undefined =
    /(_dir|socket|key_file|^path|^dir)$/.test(key) ? paths
    : /(ttl|timeout|max_stale|cooldown)$/.test(key) ? durations
    : /^(enabled|secret_names|allow_network|sandbox)$/.test(key) ? bools
    : key === 'default_mode' ? fc.constantFrom('0440', '440', '0999', '4755', 0o440, 0o777, 0o1000, 288)
    : key === 'level' ? fc.constantFrom('info', 'debug', 'nope')
    : key === 'lifecycle' ? fc.constantFrom('oneshot', 'serve', 'x')
    : key === 'dialect' ? fc.constantFrom('keyway', 'podman')
    : key === 'runtime' ? fc.constantFrom('runc', 'crun', 'kata')
    : key === 'sha256' ? fc.constantFrom('a'.repeat(64), 'A'.repeat(64), 'abc')
    : key === 'listen' ? fc.constantFrom('127.0.0.1:9090', '[::1]:80', 'nohost')
    : key === 'type' ? fc.constantFrom('vault', 'local', '')
    : key === 'env' ? fc.dictionary(fc.constantFrom('A', 'B'), fc.constantFrom('x', 1), { maxKeys: 2 })
    : key === 'access' ? fc.dictionary(fc.constantFrom('*', 'ns', ''), fc.array(fc.constantFrom('app*', 'db', ''), { maxLength: 2 }), { maxKeys: 2 })
    : key === 'ro_binds' ? fc.array(paths, { maxLength: 2 })
    : key === 'option_keys' ? fc.array(fc.constantFrom('field', 'Field', 'a_b'), { maxLength: 2 })
    : /^(max_|refresh|busy|retention|retries|concurrency|rate_|breaker_threshold)/.test(key) ? ints
    : undefined;
  return kind ? fc.oneof({ arbitrary: kind, weight: 9 }, { arbitrary: leaf, weight: 1 }) : leaf;
}
const tableOf = (keys: readonly string[]) =>
  fc.uniqueArray(fc.constantFrom(...keys, 'bogus'), { maxLength: 3 }).chain((ks) => fc.record(Object.fromEntries(ks.map((k) => [k, valueFor(k)]))));
const TOP: Record<string, fc.Arbitrary<unknown>> = {
  ...Object.fromEntries(SCALARS.map((k) => [k, valueFor(k)])),
  ...Object.fromEntries(Object.entries(TABLES).map(([k, keys]) => [k, tableOf(keys)])),
  providers: fc.dictionary(fc.constantFrom('prod', 'my-db', 'Bad'), tableOf(PROVIDER), { maxKeys: 2 }),
  plugins: fc.dictionary(fc.constantFrom('p1', 'Bad'), tableOf(PLUGIN), { maxKeys: 2 }),
  bogus: leaf,
};
const config = fc.uniqueArray(fc.constantFrom(...Object.keys(TOP)), { maxLength: 3 }).chain((ks) => fc.record(Object.fromEntries(ks.map((k) => [k, TOP[k] ?? leaf]))));

test('whenever the fast parse accepts a config, zod accepts it with the same value', () => {
  let fast = 0;
  fc.assert(
    fc.property(config, (c) => {
      if (agrees(c) === 'fast') fast++;
    }),
    { numRuns: 4000 },
  );
  // The property says something only if many configs take the fast parse.
  assert.ok(fast > 100, `only ${fast} configs took the fast parse`);
});
