import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { z as zod } from 'zod';
import { deferred, recorder, UNSURE } from '../../src/core/deferred-schema.js';

const z = recorder<typeof zod>();

test('a recorded schema defers to zod for what it does not know, and zod words the error', () => {
  const s = deferred(z.strictObject({ a: z.string().min(2), b: z.number().int().default(3) }));
  assert.deepEqual(s.fast({ a: 'xy' }), { a: 'xy', b: 3 });
  assert.equal(s.fast({ a: 'x' }), UNSURE);
  assert.equal(s.fast({ a: 'xy', c: 1 }), UNSURE);
  assert.equal(s.fast({ a: 'xy', b: 1.5 }), UNSURE);
  const r = s.safeParse({ a: 'xy', c: 1 });
  assert.ok(!r.success);
  assert.equal(r.error.issues[0]?.code, 'unrecognized_keys');
  // A call the fast parse does not model sends every input to zod.
  const odd = deferred(z.string().trim());
  assert.equal(odd.fast('x'), UNSURE);
  assert.deepEqual(odd.safeParse(' x '), { success: true, data: 'x' });
});

test('a default is handed out as a copy and absent optional keys stay absent, as zod does', () => {
  const s = deferred(z.strictObject({ t: z.strictObject({ a: z.boolean().optional() }).default({}), o: z.string().optional() }));
  const a = s.fast({});
  const b = s.fast({});
  assert.deepEqual(a, { t: {} });
  assert.notEqual((a as { t: object }).t, (b as { t: object }).t);
  assert.deepStrictEqual(a, s.schema().parse({}));
});

test('literals and discriminated unions take the fast parse; a given URL is always zod\'s to decide', () => {
  const s = deferred(z.strictObject({ v: z.union([z.literal(1), z.literal(2)]).optional(), a: z.discriminatedUnion('m', [z.strictObject({ m: z.literal('x') }), z.strictObject({ m: z.literal('y'), n: z.string() })]).optional(), u: z.url().default('http://d') }));
  assert.deepEqual(s.fast({ v: 2, a: { m: 'y', n: 'k' } }), { v: 2, a: { m: 'y', n: 'k' }, u: 'http://d' });
  assert.equal(s.fast({ v: 3 }), UNSURE);
  assert.equal(s.fast({ a: { m: 'x', n: 'k' } }), UNSURE);
  assert.equal(s.fast({ u: 'http://h' }), UNSURE);
  assert.deepEqual(s.safeParse({ u: ' http://h ' }), { success: true, data: { u: 'http://h' } });
});

test('min and max on an array are zod\'s to decide: an array with one element is not taken for its number', () => {
  const atLeast = deferred(z.array(z.number()).min(3));
  assert.equal(atLeast.fast([5]), UNSURE);
  assert.equal(atLeast.safeParse([5]).success, false);
  assert.deepEqual(atLeast.safeParse([1, 2, 3]), { success: true, data: [1, 2, 3] });
  const atMost = deferred(z.array(z.number()).max(3));
  assert.equal(atMost.fast([1]), UNSURE);
  assert.equal(atMost.safeParse([1, 2, 3, 4]).success, false);
});
