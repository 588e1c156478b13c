// AWS authentication errors reach keyway as `unauthenticated`, whichever spelling the service uses.
// The emulator answers like the service: a request without an Authorization header is
// MissingAuthenticationTokenException (403), a signature missing its date is
// IncompleteSignatureException (400).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { awsErrorCode } from '../../../src/providers/aws/error-codes.js';
import { awsSmFactory } from '../../../src/providers/aws-sm/index.js';
import { AwsSmProvider } from '../../../src/providers/aws-sm/provider.js';
import { awsFixture } from '../../emulators/aws/fixture.js';
import { testCtx } from '../../emulators/broker.js';
import { testBroker, UNCACHED_POLICY } from '../../helpers/broker.js';

const AKID = 'AKIDKEYWAYERRCODES01';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const { emu, env } = await awsFixture(t, { akid: AKID, secretKey: 'err-codes-secret-key', prefix: 'kw-aws-err-' });
  emu.putSecret('app/db', 'value');
  const provider = new AwsSmProvider('aws', awsSmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 5000 }), env);
  return { emu, broker: testBroker(t, [provider], { defaultPolicy: UNCACHED_POLICY }).broker };
}

test('the suffixed and bare spellings of the signature errors map to unauthenticated', () => {
  for (const type of ['IncompleteSignatureException', 'IncompleteSignature', 'MissingAuthenticationTokenException', 'MissingAuthenticationToken']) {
    assert.equal(awsErrorCode(type), 'unauthenticated', type);
  }
});

test('a request whose Authorization header is stripped fails as unauthenticated (MissingAuthenticationTokenException, 403)', async (t) => {
  const { emu, broker } = await setup(t);
  emu.dropHeaders.add('authorization');
  await assert.rejects(broker.resolve('ref+aws://app/db', testCtx()), (e: unknown) => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, 'unauthenticated', err.message);
    assert.match(String(err.message), /MissingAuthenticationTokenException/);
    return true;
  });
});

test('a signature without its X-Amz-Date fails as unauthenticated (IncompleteSignatureException, 400)', async (t) => {
  const { emu, broker } = await setup(t);
  emu.dropHeaders.add('x-amz-date');
  await assert.rejects(broker.resolve('ref+aws://app/db', testCtx()), (e: unknown) => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, 'unauthenticated', err.message);
    assert.match(String(err.message), /IncompleteSignatureException/);
    return true;
  });
});
