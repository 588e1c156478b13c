import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { KeywayError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { Provider, ProviderRequest } from '../../src/core/provider.js';
import { SecretValue } from '../../src/core/secret-value.js';
import type { Broker } from '../../src/broker/broker.js';
import { BrokerMetrics } from '../../src/broker/metrics.js';
import { DEFAULT_POLICY, type ProviderPolicy } from '../../src/broker/policy.js';
import type { Clock } from '../../src/broker/clock.js';
import { testBroker } from '../helpers/broker.js';

/** A fake clock: time moves only when the test says so; sleeping advances it at once. */
class FakeClock implements Clock {
  t = 1_000_000;
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
  }
}

class TestProvider implements Provider {
  readonly type = 'test';
  readonly optionKeys: string[] = [];
  calls = 0;
  value = 'v1';
  mode: 'ok' | 'down' | 'missing' | 'oversize' = 'ok';
  delayMs = 0;
  constructor(readonly name = 'slow') {}
  async lookup(_req: ProviderRequest): Promise<SecretValue> {
    this.calls++;
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.mode === 'down') throw new KeywayError('unavailable', 'backend down');
    if (this.mode === 'missing') throw new KeywayError('not_found', 'no such secret');
    if (this.mode === 'oversize') throw new KeywayError('too_large', 'response body over the limit');
    return SecretValue.fromString(this.value);
  }
}

function setup(t: { after: (fn: () => void) => void }, policy: Partial<ProviderPolicy> = {}) {
  const provider = new TestProvider();
  const clock = new FakeClock();
  let logs = '';
  const logger = createLogger('debug', new Writable({ write: (c: Buffer, _e, cb) => ((logs += c.toString()), cb()) }));
  const metrics = new BrokerMetrics();
  const { broker, audit, db } = testBroker(t, [provider], { prefix: 'kw-res-', logger, clock, metrics, defaultPolicy: { ...DEFAULT_POLICY, retries: 0, ...policy } });
  return { provider, clock, broker, audit, metrics, db, logs: () => logs };
}

const ctx = { identity: { frontend: 'test' }, signal: new AbortController().signal };
const REF = 'ref+slow://app/db';

async function read(broker: Broker, refresh = false): Promise<string> {
  const r = await broker.resolve(REF, { ...ctx, refresh });
  try {
    return r.value.expose().toString();
  } finally {
    r.value.zero();
  }
}

test('1,000 concurrent resolves of one reference make exactly one upstream call', async (t) => {
  const { provider, broker } = setup(t);
  provider.delayMs = 50;
  const values = await Promise.all(Array.from({ length: 1000 }, () => read(broker)));
  assert.equal(provider.calls, 1);
  assert.ok(values.every((v) => v === 'v1'));
});

test('a cached value is served until its TTL expires, then fetched again', async (t) => {
  const { provider, broker, clock } = setup(t, { ttlMs: 30_000 });
  assert.equal(await read(broker), 'v1');
  provider.value = 'v2';
  clock.advance(29_999);
  assert.equal(await read(broker), 'v1');
  assert.equal(provider.calls, 1);
  clock.advance(1);
  assert.equal(await read(broker), 'v2');
  assert.equal(provider.calls, 2);
});

test('the ttl reference option overrides the provider TTL', async (t) => {
  const { provider, broker, clock } = setup(t, { ttlMs: 60_000 });
  const r = async (): Promise<void> => (await broker.resolve(REF + '?ttl=5s', ctx)).value.zero();
  await r();
  clock.advance(4_000);
  await r();
  assert.equal(provider.calls, 1);
  clock.advance(1_000);
  await r();
  assert.equal(provider.calls, 2);
});

test('a forced refresh skips the cache and updates it', async (t) => {
  const { provider, broker } = setup(t);
  assert.equal(await read(broker), 'v1');
  provider.value = 'v2';
  assert.equal(await read(broker), 'v1');
  assert.equal(await read(broker, true), 'v2');
  assert.equal(await read(broker), 'v2');
  assert.equal(provider.calls, 2);
});

test('not-found answers are cached briefly, then asked again', async (t) => {
  const { provider, broker, clock } = setup(t, { negativeTtlMs: 5_000 });
  provider.mode = 'missing';
  await assert.rejects(read(broker), (e: unknown) => e instanceof KeywayError && e.code === 'not_found');
  provider.mode = 'ok';
  await assert.rejects(read(broker), (e: unknown) => e instanceof KeywayError && e.code === 'not_found');
  assert.equal(provider.calls, 1);
  clock.advance(5_000);
  assert.equal(await read(broker), 'v1');
  assert.equal(provider.calls, 2);
});

test('retries transient failures with backoff but never not-found', async (t) => {
  const { provider, broker } = setup(t, { retries: 2, ttlMs: 0 });
  provider.mode = 'down';
  await assert.rejects(read(broker), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable');
  assert.equal(provider.calls, 3);
  provider.mode = 'missing';
  provider.calls = 0;
  await assert.rejects(read(broker, true));
  assert.equal(provider.calls, 1);
});

test('the breaker opens after repeated failures, fails fast, then closes after a good trial', async (t) => {
  const { provider, broker, clock, metrics } = setup(t, { ttlMs: 0, breakerThreshold: 3, breakerCooldownMs: 30_000 });
  provider.mode = 'down';
  for (let i = 0; i < 3; i++) await assert.rejects(read(broker, true));
  assert.equal(broker.breakerStates().slow, 'open');
  await assert.rejects(read(broker, true), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && /circuit open/.test(e.message));
  assert.equal(provider.calls, 3, 'no call while open');
  assert.match(await metrics.text(), /keyway_breaker_state\{provider="slow"\} 2/);
  clock.advance(30_000);
  assert.equal(broker.breakerStates().slow, 'half_open');
  provider.mode = 'ok';
  assert.equal(await read(broker, true), 'v1');
  assert.equal(broker.breakerStates().slow, 'closed');
});

test('a failed half-open trial reopens the breaker', async (t) => {
  const { provider, broker, clock } = setup(t, { ttlMs: 0, breakerThreshold: 1 });
  provider.mode = 'down';
  await assert.rejects(read(broker, true));
  clock.advance(DEFAULT_POLICY.breakerCooldownMs);
  await assert.rejects(read(broker, true), /backend down/);
  assert.equal(broker.breakerStates().slow, 'open');
});

test('a half-open trial the provider answers with too_large ends the trial: later calls reach the provider', async (t) => {
  const { provider, broker, clock } = setup(t, { ttlMs: 0, breakerThreshold: 1 });
  provider.mode = 'down';
  await assert.rejects(read(broker, true));
  clock.advance(DEFAULT_POLICY.breakerCooldownMs);
  provider.mode = 'oversize';
  await assert.rejects(read(broker, true), /over the limit/);
  provider.mode = 'ok';
  assert.equal(await read(broker, true), 'v1');
  assert.equal(broker.breakerStates().slow, 'closed');
});

test('with last-known-good, a down backend is bridged within max_stale, refused after, and audited', async (t) => {
  const { provider, broker, clock, audit, logs } = setup(t, { ttlMs: 10_000, maxStaleMs: 60_000 });
  assert.equal(await read(broker), 'v1');
  provider.mode = 'down';
  clock.advance(10_000 + 59_000);
  assert.equal(await read(broker), 'v1');
  clock.advance(1_000);
  await assert.rejects(read(broker), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable');
  const rows = audit.query();
  assert.deepEqual(rows.map((r) => [r.outcome, r.cache]), [['ok', 'miss'], ['stale', 'stale'], ['error', 'miss']]);
  assert.match(logs(), /serving last known good value/);
});

test('without last-known-good a down backend fails once the TTL is over', async (t) => {
  const { provider, broker, clock } = setup(t, { ttlMs: 10_000 });
  await read(broker);
  provider.mode = 'down';
  clock.advance(10_000);
  await assert.rejects(read(broker), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable');
});

test('the concurrency limit bounds calls in flight to a provider', async (t) => {
  const { provider, broker } = setup(t, { concurrency: 2, ttlMs: 0 });
  let inFlight = 0;
  let peak = 0;
  provider.lookup = async (req) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return SecretValue.fromString(req.path);
  };
  await Promise.all(Array.from({ length: 20 }, (_, i) => broker.resolve(`ref+slow://k${i}`, ctx).then((r) => r.value.zero())));
  assert.equal(peak, 2);
});

test('a canary value never appears in the audit table, logs or metrics', async (t) => {
  const { provider, broker, db, logs, metrics, audit } = setup(t, { maxStaleMs: 60_000 });
  const canary = 'CANARY-broker-5a5a';
  provider.value = canary;
  assert.equal(await read(broker), canary);
  provider.mode = 'down';
  await read(broker, true);
  await assert.rejects(broker.resolve('ref+slow://missing#/x', { ...ctx, refresh: true }));
  audit.flush();
  const auditText = JSON.stringify(db.prepare('SELECT * FROM audit').all());
  assert.ok(auditText.length > 100);
  for (const text of [auditText, logs(), await metrics.text()]) assert.ok(!text.includes(canary));
});

test('metrics count requests, cache results and upstream calls without secret names', async (t) => {
  const { broker, metrics } = setup(t);
  await read(broker);
  await read(broker);
  const text = await metrics.text();
  assert.match(text, /keyway_requests_total\{provider="slow",frontend="test",outcome="ok",secret=""\} 2/);
  assert.match(text, /keyway_cache_total\{provider="slow",result="hit"\} 1/);
  assert.match(text, /keyway_upstream_calls_total\{provider="slow",outcome="ok"\} 1/);
  assert.ok(!text.includes('app/db'));
});

test('workload provider parameters are part of the cache key', async (t) => {
  const { provider, broker } = setup(t);
  const as = (role: string) => ({ identity: { frontend: 'csi', params: { role } }, signal: ctx.signal });
  (await broker.resolve(REF, as('a'))).value.zero();
  (await broker.resolve(REF, as('a'))).value.zero();
  (await broker.resolve(REF, as('b'))).value.zero();
  assert.equal(provider.calls, 2);
});

test('a caller that gives up does not fail the others sharing its upstream call', async (t) => {
  const { provider, broker } = setup(t);
  provider.delayMs = 100;
  const quitter = new AbortController();
  const first = broker.resolve(REF, { identity: { frontend: 'test' }, signal: quitter.signal });
  const second = read(broker);
  quitter.abort();
  await assert.rejects(first, (e: unknown) => e instanceof KeywayError && e.code === 'cancelled');
  assert.equal(await second, 'v1');
  assert.equal(provider.calls, 1);
  assert.equal(await read(broker), 'v1');
  assert.equal(provider.calls, 1, 'the shared call filled the cache');
});
