import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { z } from 'zod';
import { UNSURE } from '../../src/core/deferred-schema.js';
import { BUILTIN_PROVIDERS } from '../../src/providers/builtin.js';
import type { ProviderFactory } from '../../src/providers/factory.js';

const factories = BUILTIN_PROVIDERS as readonly ProviderFactory[];

/** What the fast parse says agrees with zod: same value, same key order; else it defers. */
function agrees(f: ProviderFactory, value: unknown): 'fast' | 'zod' {
  const fast = f.optionSchema.fast(value);
  if (fast === UNSURE) return 'zod';
  const real = f.configSchema.safeParse(value);
  assert.ok(real.success, `${f.type}: the fast parse accepted what zod refuses: ${JSON.stringify(value)}: ${real.error?.message}`);
  assert.deepStrictEqual(fast, real.data);
  assert.equal(JSON.stringify(fast), JSON.stringify(real.data));
  return 'fast';
}

test('every built-in type usable without config takes its defaults from the fast parse, as zod gives them', () => {
  for (const f of factories.filter((x) => x.usableWithoutConfig)) assert.equal(agrees(f, {}), 'fast', f.type);
});

// Values near each key's schema: valid and invalid ones, so both answers are exercised.
const leaf = fc.oneof(
  fc.constantFrom('/abs/path', 'relative', '', 'x', 'auto', 'token_file', 'host', 'tpm2', 'eu-west-1', 'EU', 'approle', 'secret/kv', 'bad path', 'https://h.example', 'http://127.0.0.1:8200', 'ftp://x', ' https://h '),
  fc.constantFrom(0, 1, 2, 3, 50, 100, 10_000, 300_001, 1.5, -1),
  fc.boolean(),
  fc.constant(undefined),
);
const auth = fc.record(
  {
    method: fc.constantFrom('token', 'approle', 'kubernetes', 'jwt', 'other'),
    token_file: leaf,
    mount: leaf,
    role: leaf,
    role_id: leaf,
    jwt_file: leaf,
    audience: leaf,
  },
  { requiredKeys: ['method'] },
);
const nested: Record<string, fc.Arbitrary<unknown>> = {
  auth: fc.oneof(auth, leaf),
  kv_version: fc.constantFrom(1, 2, 3, '2'),
  mounts: fc.dictionary(fc.constantFrom('secret', 'kv/team', 'bad path'), fc.constantFrom(1, 2, 3)),
  dirs: fc.array(leaf, { maxLength: 2 }),
};

function options(f: ProviderFactory): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys((f.configSchema as unknown as z.ZodObject).shape);
  // Most keys absent, so that options with several keys still often pass.
  const arb = Object.fromEntries([...keys, 'bogus'].map((k) => [k, fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: nested[k] ?? leaf })]));
  return fc.record(arb).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)));
}

test('whenever the fast parse accepts a provider\'s options, zod accepts them with the same value', () => {
  for (const f of factories) {
    let fast = 0;
    fc.assert(
      fc.property(options(f), (o) => {
        if (agrees(f, o) === 'fast') fast++;
      }),
      { numRuns: 1500 },
    );
    // The property says something only if many option sets take the fast parse.
    assert.ok(fast > 50, `${f.type}: only ${fast} option sets took the fast parse`);
  }
});
