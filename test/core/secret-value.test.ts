import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, format } from 'node:util';
import { SecretValue, withSecret } from '../../src/core/secret-value.js';

const CANARY = 'canary-7f3a-plaintext';

test('a secret value never prints its bytes through toString, JSON, inspect or format', () => {
  const v = SecretValue.fromString(CANARY);
  for (const text of [String(v), `${v}`, JSON.stringify({ v }), inspect(v), inspect({ nested: { v } }, { depth: 5 }), format('%o %O %s %j', v, v, v, v)]) {
    assert.ok(!text.includes(CANARY), text);
  }
  assert.deepEqual(structuredClone(v), {});
  assert.deepEqual(Object.keys(v), []);
});

test('expose returns the exact bytes and zero wipes them', () => {
  const src = Buffer.from([0, 1, 2, 255]);
  const v = SecretValue.copyOf(src);
  const live = v.expose();
  assert.deepEqual([...live], [0, 1, 2, 255]);
  v.zero();
  assert.deepEqual([...live], [0, 0, 0, 0]);
  assert.throws(() => v.expose(), /after it was zeroed/);
});

test('withSecret zeroes the value even when the body throws', async () => {
  const v = SecretValue.fromString('abc');
  const live = v.expose();
  await assert.rejects(withSecret(v, () => Promise.reject(new Error('boom'))));
  assert.equal(live.toString(), '\0\0\0');
});

test('equals compares content in constant time', () => {
  assert.ok(SecretValue.fromString('a').equals(SecretValue.fromString('a')));
  assert.ok(!SecretValue.fromString('a').equals(SecretValue.fromString('b')));
  assert.ok(!SecretValue.fromString('a').equals(SecretValue.fromString('ab')));
});
