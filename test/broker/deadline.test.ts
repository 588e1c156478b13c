// `broker.timeout` bounds the whole resolve: waiting for a slot, every attempt and every backoff.
// Against a backend that hangs or keeps failing, a large retry count must not stretch the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY } from '../../src/broker/policy.js';
import { awsSmFactory } from '../../src/providers/aws-sm/index.js';
import { AwsSmProvider } from '../../src/providers/aws-sm/provider.js';
import { AwsEmulator, AwsError } from '../emulators/aws/emulator.js';
import { isCode, testCtx } from '../emulators/broker.js';
import { testBroker } from '../helpers/broker.js';

const AKID = 'AKIDKEYWAYDEADLINE01';
const TIMEOUT_MS = 800;
const RETRIES = 50;

async function setup(t: { after: (fn: () => unknown) => void }) {
  const emu = await new AwsEmulator('us-east-1').start();
  t.after(() => emu.stop());
  emu.addKey(AKID, 'deadline-secret-key');
  emu.putSecret('app/db', 'value');
  const env = { HOME: '/nonexistent', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: 'deadline-secret-key' };
  // The provider's own HTTP timeout is far longer than the broker's: only the broker stops it.
  const provider = new AwsSmProvider('aws', awsSmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 60_000 }), env);
  const { broker } = testBroker(t, [provider], {
    prefix: 'kw-deadline-',
    defaultPolicy: { ...DEFAULT_POLICY, ttlMs: 0, negativeTtlMs: 0, timeoutMs: TIMEOUT_MS, retries: RETRIES, backoffMs: 50, breakerThreshold: 1_000_000 },
  });
  return { emu, broker };
}

test('a backend that never answers fails with timeout after one attempt, not one timeout per retry', { timeout: 30_000 }, async (t) => {
  const { emu, broker } = await setup(t);
  assert.equal((await broker.resolve('ref+aws://app/db', testCtx())).value.expose().toString(), 'value');
  const before = emu.seen.length;
  emu.hang = true;
  const started = performance.now();
  await assert.rejects(broker.resolve('ref+aws://app/db', testCtx()), (e: unknown) => isCode('timeout')(e) && /within the 800 ms timeout \(1 attempt\)/.test(String((e as Error).message)));
  assert.equal(emu.seen.length - before, 1, 'the hanging request was not retried');
  // Generous: the point is that 50 retries did not each get their own timeout (40 s).
  assert.ok(performance.now() - started < 4 * TIMEOUT_MS, 'the whole call ended near the deadline');
});

test('a backend that keeps failing is retried only until the deadline', { timeout: 30_000 }, async (t) => {
  const { emu, broker } = await setup(t);
  emu.failure = new AwsError('ServiceUnavailableException', 'The service is unavailable.', 503);
  const started = performance.now();
  await assert.rejects(broker.resolve('ref+aws://app/db', testCtx()), (e: unknown) => {
    const code = (e as { code?: string }).code;
    return code === 'timeout' || code === 'unavailable';
  });
  const attempts = emu.calls.length;
  assert.ok(attempts >= 2 && attempts < RETRIES + 1, `${attempts} attempts: retried, but stopped at the deadline`);
  assert.ok(performance.now() - started < 4 * TIMEOUT_MS, 'the whole call ended near the deadline');
});
