// The Swarm secret driver's choice of what to resolve, its limits and its error messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../../src/core/errors.js';
import { silentLogger } from '../../../src/core/logger.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { swarmTarget, SwarmSecretProvider, SWARM_MAX_SECRET_BYTES } from '../../../src/frontends/swarm/secret-provider.js';

test('the keyway.ref label wins over keyway.secret, which wins over the secret name', () => {
  assert.equal(swarmTarget({ SecretName: 'db' }).target, 'db');
  assert.equal(swarmTarget({ SecretName: 'db', SecretLabels: { 'keyway.secret': 'other' } }).target, 'other');
  assert.equal(swarmTarget({ SecretName: 'db', SecretLabels: { 'keyway.secret': 'other', 'keyway.ref': 'ref+vault://kv/a#/b' } }).target, 'ref+vault://kv/a#/b');
  assert.equal(swarmTarget({ SecretName: 'db', SecretLabels: null }).target, 'db');
});

test('bad requests name the field that is wrong', () => {
  assert.throws(() => swarmTarget({}), /SecretName is missing/);
  assert.throws(() => swarmTarget({ SecretName: 'db', SecretLabels: ['x'] }), /SecretLabels must be an object/);
  assert.throws(() => swarmTarget({ SecretName: 'db', SecretLabels: { 'keyway.ref': 'vault://x' } }), /label keyway.ref of swarm secret "db": reference: must start with "ref\+"/);
  assert.throws(() => swarmTarget({ SecretName: 'db', SecretLabels: { 'keyway.secret': 'a/b' } }), /label keyway.secret "a\/b" contains "\/"/);
  assert.throws(() => swarmTarget({ SecretName: 'db', SecretLabels: { 'keyway.secret': 7 } }), /label keyway.secret must be a string/);
});

function provider(bytes: Buffer | KeywayError, seen: SecretValue[] = []): SwarmSecretProvider {
  return new SwarmSecretProvider(
    {
      resolve: () => {
        if (bytes instanceof KeywayError) return Promise.reject(bytes);
        const value = SecretValue.copyOf(bytes);
        seen.push(value);
        return Promise.resolve({ value, source: 'ref+fake://x', provider: 'fake' });
      },
    },
    silentLogger(),
  );
}

test('the value comes back base64 and the resolved bytes are zeroed afterwards', async () => {
  const seen: SecretValue[] = [];
  const r = await provider(Buffer.from([0, 1, 255]), seen).getSecret({ SecretName: 'db', TaskID: 't' }, AbortSignal.timeout(1000));
  assert.deepEqual(Buffer.from(r.Value, 'base64'), Buffer.from([0, 1, 255]));
  assert.equal(r.DoNotReuse, false);
  assert.equal(seen[0]?.zeroed, true);
});

test('empty and oversized values and provider errors are refused with the secret named', async () => {
  const sig = AbortSignal.timeout(1000);
  await assert.rejects(provider(Buffer.alloc(0)).getSecret({ SecretName: 'db' }, sig), /invalid_argument|is empty/);
  await assert.rejects(provider(Buffer.alloc(SWARM_MAX_SECRET_BYTES + 1)).getSecret({ SecretName: 'db' }, sig), (e: unknown) => e instanceof KeywayError && e.code === 'too_large' && /swarm secret "db"/.test(e.message));
  await assert.rejects(
    provider(new KeywayError('unavailable', 'vault is down')).getSecret({ SecretName: 'db', SecretLabels: { 'keyway.ref': 'ref+vault://kv/x' } }, sig),
    (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && e.message === 'swarm secret "db" from label keyway.ref: vault is down',
  );
});
