// Broker.resolveMany: many targets for one consumer, all or nothing, with a bounded number in
// flight; batched through a provider's lookupMany where it has one (AWS, through its emulator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import type { Provider, ProviderRequest } from '../../src/core/provider.js';
import { SecretValue } from '../../src/core/secret-value.js';
import type { Broker } from '../../src/broker/broker.js';
import { DEFAULT_POLICY } from '../../src/broker/policy.js';
import { awsSmFactory } from '../../src/providers/aws-sm/index.js';
import { AwsSmProvider } from '../../src/providers/aws-sm/provider.js';
import { awsFixture } from '../emulators/aws/fixture.js';
import { isCode } from '../emulators/broker.js';
import { testBroker, UNCACHED_POLICY } from '../helpers/broker.js';

/** Values in memory, each answered after its own delay; counts lookups in flight. */
class SlowMemoryProvider implements Provider {
  readonly type = 'memory';
  readonly name = 'mem';
  readonly optionKeys: string[] = [];
  readonly values = new Map<string, { value: string; delayMs: number }>();
  inFlight = 0;
  maxInFlight = 0;
  /** Paths that never answer (until the caller gives up). */
  readonly hang = new Set<string>();

  async lookup(req: ProviderRequest): Promise<SecretValue> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const v = this.values.get(req.path);
      if (this.hang.has(req.path)) await new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new KeywayError('timeout', 'gave up')), { once: true }));
      await new Promise((r) => setTimeout(r, v?.delayMs ?? 0));
      if (!v) throw new KeywayError('not_found', `no secret at ${req.path}`);
      return SecretValue.fromString(v.value);
    } finally {
      this.inFlight--;
    }
  }
}

function setup(t: { after: (fn: () => void) => void }): { mem: SlowMemoryProvider; broker: Broker } {
  const mem = new SlowMemoryProvider();
  const { broker } = testBroker(t, [mem], { prefix: 'kw-resolve-many-', maxSecretBytes: 1024, defaultPolicy: { ...DEFAULT_POLICY, retries: 0, concurrency: 100, timeoutMs: 30_000 } });
  return { mem, broker };
}

const ctx = (signal: AbortSignal = AbortSignal.timeout(10_000)) => ({ identity: { frontend: 'test' }, signal });

/** Keeps the buffer behind each value handed out, to check after a failure that it was wiped. */
function keepBuffers(): { buffers: Buffer[]; onValue: (r: { value: SecretValue }) => void } {
  const buffers: Buffer[] = [];
  return { buffers, onValue: (r) => void buffers.push(r.value.expose()) };
}

test('resolveMany answers in the order of its targets, whatever order the values arrive in', async (t) => {
  const { mem, broker } = setup(t);
  const delays = [60, 0, 30, 10, 45];
  delays.forEach((d, i) => mem.values.set(`k${i}`, { value: `v${i}`, delayMs: d }));
  const out = await broker.resolveMany(delays.map((_, i) => `ref+mem://k${i}`), ctx());
  assert.deepEqual(out.map((r) => r.value.expose().toString()), ['v0', 'v1', 'v2', 'v3', 'v4']);
  for (const r of out) r.value.zero();
});

test('resolveMany keeps at most `concurrency` resolves in flight', async (t) => {
  const { mem, broker } = setup(t);
  const targets = Array.from({ length: 12 }, (_, i) => {
    mem.values.set(`k${i}`, { value: `v${i}`, delayMs: 20 });
    return `ref+mem://k${i}`;
  });
  const out = await broker.resolveMany(targets, ctx(), { concurrency: 3 });
  assert.equal(out.length, 12);
  assert.equal(mem.maxInFlight, 3);
  for (const r of out) r.value.zero();
});

test('a failing target fails resolveMany and every value already resolved is zeroed', async (t) => {
  const { mem, broker } = setup(t);
  for (let i = 0; i < 4; i++) mem.values.set(`k${i}`, { value: `value-${i}`, delayMs: 0 });
  const seen = keepBuffers();
  // The missing one answers last, after the others were resolved and kept.
  mem.values.delete('k4');
  const slowMissing = mem.lookup.bind(mem);
  mem.lookup = async (req) => {
    if (req.path === 'k4') await new Promise((r) => setTimeout(r, 50));
    return slowMissing(req);
  };
  const targets = [0, 1, 2, 3, 4].map((i) => `ref+mem://k${i}`);
  await assert.rejects(broker.resolveMany(targets, ctx(), { onValue: seen.onValue }), isCode('not_found'));
  assert.equal(seen.buffers.length, 4);
  for (const b of seen.buffers) assert.ok(b.every((x) => x === 0), 'a resolved value was left unwiped');
});

test('a value over the onValue budget fails the call and is wiped with the others', async (t) => {
  const { mem, broker } = setup(t);
  for (let i = 0; i < 3; i++) mem.values.set(`k${i}`, { value: 'x'.repeat(10), delayMs: i * 10 });
  const seen = keepBuffers();
  let total = 0;
  const onValue = (r: { value: SecretValue }): void => {
    seen.onValue(r);
    total += r.value.length;
    if (total > 25) throw new KeywayError('too_large', 'over budget');
  };
  await assert.rejects(broker.resolveMany(['ref+mem://k0', 'ref+mem://k1', 'ref+mem://k2'], ctx(), { onValue }), isCode('too_large'));
  assert.equal(seen.buffers.length, 3);
  for (const b of seen.buffers) assert.ok(b.every((x) => x === 0));
});

test('aborting the signal cancels resolveMany and wipes what had arrived', async (t) => {
  const { mem, broker } = setup(t);
  mem.values.set('fast', { value: 'fast-value', delayMs: 0 });
  mem.hang.add('slow');
  const ac = new AbortController();
  const seen = keepBuffers();
  const p = broker.resolveMany(['ref+mem://fast', 'ref+mem://slow'], ctx(ac.signal), {
    onValue: (r) => {
      seen.onValue(r);
      setTimeout(() => ac.abort(), 10);
    },
  });
  const started = Date.now();
  await assert.rejects(p, isCode('cancelled'));
  assert.ok(Date.now() - started < 5000, 'the call gave up at once, not at the provider timeout');
  assert.equal(seen.buffers.length, 1);
  assert.ok(seen.buffers[0]?.every((x) => x === 0));
});

test('resolveMany fetches a provider\'s targets in one lookupMany: one BatchGetSecretValue for five AWS secrets', async (t) => {
  const { emu, env } = await awsFixture(t, { akid: 'AKIDKEYWAYTEST0001', secretKey: 'kw-test-secret-access-key' });
  const provider = new AwsSmProvider('aws', awsSmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 5000 }), env);
  const broker = testBroker(t, [provider], { defaultPolicy: UNCACHED_POLICY }).broker;
  for (let i = 0; i < 5; i++) emu.putSecret(`app/s${i}`, `secret-${i}`);
  const out = await broker.resolveMany([0, 1, 2, 3, 4].map((i) => `ref+aws://app/s${i}`), ctx());
  assert.deepEqual(out.map((r) => r.value.expose().toString()), [0, 1, 2, 3, 4].map((i) => `secret-${i}`));
  for (const r of out) r.value.zero();
  assert.equal(emu.calls.filter((c) => c === 'secretsmanager.BatchGetSecretValue').length, 1);
  assert.equal(emu.calls.filter((c) => c === 'secretsmanager.GetSecretValue').length, 0, 'no single reads');

  // A secret the batch reports missing fails the whole call, and nothing else is returned.
  emu.calls.length = 0;
  const seen = keepBuffers();
  await assert.rejects(broker.resolveMany(['ref+aws://app/s0', 'ref+aws://app/nope', 'ref+aws://app/s1'], ctx(), { onValue: seen.onValue }), isCode('not_found'));
  assert.equal(emu.calls.filter((c) => c === 'secretsmanager.BatchGetSecretValue').length, 1);
  for (const b of seen.buffers) assert.ok(b.every((x) => x === 0));
});

test('a batched value over the size limit is refused as too_large, as a single read would be', async (t) => {
  const { emu, env } = await awsFixture(t, { akid: 'AKIDKEYWAYTEST0001', secretKey: 'kw-test-secret-access-key' });
  const provider = new AwsSmProvider('aws', awsSmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 5000 }), env);
  const broker = testBroker(t, [provider], { maxSecretBytes: 64, defaultPolicy: UNCACHED_POLICY }).broker;
  emu.putSecret('app/small', 'small');
  emu.putSecret('app/big', 'x'.repeat(65));
  await assert.rejects(broker.resolveMany(['ref+aws://app/small', 'ref+aws://app/big'], ctx()), isCode('too_large'));
  assert.equal(emu.calls.filter((c) => c === 'secretsmanager.BatchGetSecretValue').length, 1);
  assert.equal(emu.calls.filter((c) => c === 'secretsmanager.GetSecretValue').length, 0, 'refused from the batch, not read again');
});
