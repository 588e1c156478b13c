import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../src/core/errors.js';
import { parseConfig } from '../../src/config/load.js';

const KEYS = ['state_dir', 'runtime_dir', 'api', 'docker', 'csi', 'limits', 'local', 'providers', 'plugins', 'broker', 'metrics', 'log', 'audit', 'store', 'socket', 'enabled', 'type', 'max_secret_bytes', 'cache_ttl'];

/** TOML-ish text built from real keys and random values, plus raw garbage. */
const tomlish = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(...KEYS).map((k) => `[${k}]`),
        fc.tuple(fc.constantFrom(...KEYS), fc.stringMatching(/^[a-z0-9]{1,8}$/)).map(([a, b]) => `[${a}.${b}]`),
        fc.tuple(fc.constantFrom(...KEYS), fc.oneof(fc.integer().map(String), fc.boolean().map(String), fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)), fc.constant('[1, "a"]'), fc.constant('{ a = 1 }'))).map(([k, v]) => `${k} = ${v}`),
      ),
      { maxLength: 12 },
    )
    .map((lines) => lines.join('\n')),
);

test('the config parser throws nothing but one-line KeywayErrors on arbitrary input', () => {
  fc.assert(
    fc.property(tomlish, (text) => {
      try {
        parseConfig(text, 'fuzz.toml');
      } catch (e) {
        assert.ok(e instanceof KeywayError, `threw ${String(e)}`);
        assert.equal(e.code, 'invalid_argument');
        assert.ok(!e.message.includes('\n'), 'one line');
      }
    }),
    { numRuns: 3000 },
  );
});

test('generated valid configs parse to exactly the values written', () => {
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 64 * 1024 * 1024 }),
      fc.nat({ max: 86_400 }),
      fc.constantFrom(...levels),
      fc.integer({ min: 0, max: 0o777 }),
      fc.boolean(),
      fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
      (max, interval, level, mode, quoted, provider) => {
        const modeText = quoted ? `"0${mode.toString(8).padStart(3, '0')}"` : `0o${mode.toString(8)}`;
        const text = `[limits]\nmax_secret_bytes = ${max}\n[delivery]\ndefault_mode = ${modeText}\nrefresh_interval_s = ${interval}\n[log]\nlevel = "${level}"\n[providers.${provider}]\ntype = "local"\n`;
        const c = parseConfig(text, 'gen.toml');
        assert.equal(c.limits.max_secret_bytes, max);
        assert.equal(c.delivery.default_mode, mode);
        assert.equal(c.delivery.refresh_interval_s, interval);
        assert.equal(c.log.level, level);
        assert.equal(c.providers[provider]?.type, 'local');
      },
    ),
    { numRuns: 1000 },
  );
});

test('generated known-bad configs are refused, naming the key', () => {
  const bad = fc.oneof(
    fc.stringMatching(/^[a-z]{3,12}$/).filter((k) => !KEYS.includes(k)).map((k) => [`${k} = 1`, k] as const),
    fc.integer({ max: 0 }).map((n) => [`[limits]\nmax_secret_bytes = ${n}`, 'limits.max_secret_bytes'] as const),
    fc.integer({ min: 0o1000, max: 0o7777 }).map((m) => [`[delivery]\ndefault_mode = 0o${m.toString(8)}`, 'delivery.default_mode'] as const),
    fc.stringMatching(/^[A-Z][a-z]{0,8}$/).map((n) => [`[providers.${n}]\ntype = "local"`, `providers.${n}`] as const),
    fc.stringMatching(/^[a-z]{1,8}$/).filter((l) => !['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(l)).map((l) => [`[log]\nlevel = "${l}"`, 'log.level'] as const),
  );
  fc.assert(
    fc.property(bad, ([text, key]) => {
      assert.throws(() => parseConfig(text, 'gen.toml'), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && e.message.includes(key), text);
    }),
    { numRuns: 1000 },
  );
});
