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
