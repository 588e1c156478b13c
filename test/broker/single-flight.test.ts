import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { SecretValue } from '../../src/core/secret-value.js';
import { SingleFlight } from '../../src/broker/single-flight.js';

void test('concurrent callers share one call, each gets a private copy, and the shared original is zeroed once all copied', async () => {
  const sf = new SingleFlight();
  const buf = Buffer.from('shared-original-bytes');
  const original = SecretValue.adopt(buf);
  let release!: () => void;
  let calls = 0;
  const fn = async (): Promise<SecretValue> => {
    calls += 1;
    await new Promise<void>((r) => (release = r));
    return original;
  };
  const waiters = Array.from({ length: 5 }, () => sf.do('k', fn));
  release();
  const got = await Promise.all(waiters);
  assert.equal(calls, 1);
  assert.deepEqual(got.map((g) => g.shared), [false, true, true, true, true]);
  for (const g of got) {
    assert.equal(g.value.expose().toString(), 'shared-original-bytes');
    assert.notEqual(g.value, original, 'a copy, not the shared object');
  }
  await tick();
  assert.equal(original.zeroed, true, 'the shared original is zeroed after the copies were made');
  assert.ok(buf.every((b) => b === 0), 'its bytes are overwritten');
  for (const g of got) assert.equal(g.value.expose().toString(), 'shared-original-bytes', 'the copies are unaffected');
  assert.equal(sf.size, 0);
});
