import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { Provider } from '../../src/core/provider.js';
import { defineProvider, type ProviderDeps } from '../../src/providers/factory.js';

const deps = {} as ProviderDeps;

function counting() {
  let built = 0;
  const seen: unknown[] = [];
  const factory = defineProvider({
    type: 'demo',
    description: 'a demo type',
    usableWithoutConfig: true,
    options: () => {
      built++;
      return z.strictObject({ port: z.number().int().default(8200) });
    },
    create(name, config): Provider {
      seen.push(config.port);
      return { type: 'demo', name, optionKeys: [], lookup: () => Promise.reject(new Error('unused')) };
    },
  });
  return { factory, seen, built: () => built };
}

test('defineProvider builds the option schema on first use and only once, so defining a type costs nothing', () => {
  const { factory, built } = counting();
  assert.equal(built(), 0, 'no schema at definition time');
  factory.configure({});
  factory.configure({ port: 1 });
  void factory.configSchema;
  assert.equal(built(), 1);
});

test('configure validates strictly and binds the parsed options to the constructor', () => {
  const { factory, seen } = counting();
  const bad = factory.configure({ port: 'x', extra: 1 });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(bad.error.issues.map((i) => i.code).sort(), ['invalid_type', 'unrecognized_keys']);
  const good = factory.configure({});
  assert.ok(good.ok);
  const p = good.create('mine', deps);
  assert.equal(p.name, 'mine');
  assert.deepEqual(seen, [8200], 'defaults are applied before create');
});
