// The one backoff: exponential from the base, capped, spread by ± jitter around the nominal delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../../src/core/backoff.js';

test('without jitter the delay doubles from the base and stops at the cap', () => {
  const b = { baseMs: 100, capMs: 5_000, jitter: 0 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(b, n, () => 0.9)),
    [100, 200, 400, 800, 1600, 3200, 5000, 5000],
  );
});

test('jitter spreads the delay evenly around the nominal one, never below zero', () => {
  const b = { baseMs: 100, capMs: 1_000, jitter: 0.1 };
  assert.equal(backoffDelay(b, 1, () => 0), 180);
  assert.equal(backoffDelay(b, 1, () => 0.5), 200);
  assert.ok(Math.abs(backoffDelay(b, 1, () => 0.999) - 219.96) < 1e-9);
  const full = { baseMs: 50, capMs: 5_000, jitter: 1 };
  assert.equal(backoffDelay(full, 0, () => 0), 0);
  assert.equal(backoffDelay(full, 2, () => 0.5), 200);
  assert.ok(backoffDelay(full, 30, () => 0.999) < 10_000, 'the cap holds under jitter');
});

test('the default random source keeps every delay within its bounds', () => {
  const b = { baseMs: 100, capMs: 400, jitter: 0.5 };
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(b, i % 5);
    const nominal = Math.min(400, 100 * 2 ** (i % 5));
    assert.ok(d >= nominal * 0.5 && d < nominal * 1.5, `${d} for attempt ${i % 5}`);
  }
});
