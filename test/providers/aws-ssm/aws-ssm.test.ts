import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../../src/core/errors.js';
import type { SecretValue } from '../../../src/core/secret-value.js';
import { awsSsmFactory } from '../../../src/providers/aws-ssm/index.js';
import { AwsSsmProvider } from '../../../src/providers/aws-ssm/provider.js';
import { AwsError } from '../../emulators/aws/emulator.js';
import { awsFixture } from '../../emulators/aws/fixture.js';
import { isCode, testCtx } from '../../emulators/broker.js';
import { testBroker, UNCACHED_POLICY } from '../../helpers/broker.js';

const AKID = 'AKIDKEYWAYSSM0001';
const SECRET_KEY = 'kw-ssm-secret-access-key';
const ctx = testCtx();

async function setup(t: { after: (fn: () => unknown) => void }, config: Record<string, unknown> = {}) {
  const { emu, env } = await awsFixture(t, { akid: AKID, secretKey: SECRET_KEY, region: 'eu-central-1', regionVar: 'AWS_DEFAULT_REGION', prefix: 'kw-ssm-home-' });
  const provider = new AwsSsmProvider('ssm', awsSsmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 5000, ...config }), env);
  return { emu, provider, broker: testBroker(t, [provider], { defaultPolicy: UNCACHED_POLICY }).broker };
}

test('a SecureString parameter is decrypted and resolves through the broker', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putParameter('/app/db/password', 'ssm-pass-1');
  assert.equal((await broker.resolve('ref+ssm:///app/db/password', ctx)).value.expose().toString(), 'ssm-pass-1');
  // A hierarchical path without the leading slash means the same parameter.
  assert.equal((await broker.resolve('ref+ssm://app/db/password', ctx)).value.expose().toString(), 'ssm-pass-1');
});

test('without decryption a SecureString stays ciphertext', async (t) => {
  const { emu, provider } = await setup(t, { with_decryption: false });
  emu.putParameter('p', 'plain-value');
  assert.notEqual((await provider.lookup({ path: 'p', options: {}, signal: ctx.signal })).expose().toString(), 'plain-value');
});

test('a binary value stored as base64 is decoded with encoding=base64', async (t) => {
  const { emu, broker } = await setup(t);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
  emu.putParameter('/bin', all.toString('base64'));
  assert.deepEqual((await broker.resolve('ref+ssm:///bin?encoding=base64', ctx)).value.expose(), all);
  await assert.rejects(broker.resolve('ref+ssm:///bin?encoding=hex', ctx), isCode('invalid_argument'));
});

test('a missing parameter and a missing version are not_found', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putParameter('/one', 'v');
  await assert.rejects(broker.resolve('ref+ssm:///nope', ctx), (e: unknown) => isCode('not_found')(e) && /ParameterNotFound/.test((e as Error).message) && /nope/.test((e as Error).message));
  await assert.rejects(broker.resolve('ref+ssm:///one?version=9', ctx), (e: unknown) => isCode('not_found')(e) && /ParameterVersionNotFound/.test((e as Error).message));
});

test('an IAM denial is permission_denied and does not leak the value', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putParameter('/locked', 'locked-value-7');
  const p = emu.parameters.get('/locked');
  if (p) p.denied = true;
  await assert.rejects(broker.resolve('ref+ssm:///locked', ctx), isCode('permission_denied', 'locked-value-7'));
});

test('outages, server errors and throttling map to retryable codes', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putParameter('/x', 'v');
  emu.failure = new AwsError('InternalServerError', 'An internal error occurred.', 500);
  await assert.rejects(broker.resolve('ref+ssm:///x', ctx), isCode('unavailable'));
  emu.failure = new AwsError('ThrottlingException', 'Rate exceeded');
  await assert.rejects(broker.resolve('ref+ssm:///x', ctx), isCode('throttled'));
  emu.failure = undefined;
  await emu.stop();
  await assert.rejects(broker.resolve('ref+ssm:///x', ctx), isCode('unavailable'));
});

test('versions and labels select values, and the version op tracks changes', async (t) => {
  const { emu, provider, broker } = await setup(t);
  emu.putParameter('/rot', 'first');
  const req = { path: '/rot', options: {}, signal: ctx.signal };
  assert.equal(await provider.version(req), '1');
  assert.equal(await broker.version('ref+ssm:///rot', ctx), 'p:1');
  emu.putParameter('/rot', 'second');
  emu.labelParameter('/rot', 1, 'stable');
  assert.equal(await provider.version(req), '2');
  assert.equal(await provider.version({ ...req, options: { label: 'stable' } }), '1');
  assert.equal((await provider.lookup({ ...req, options: { version: '1' } })).expose().toString(), 'first');
  assert.equal((await provider.lookup({ ...req, options: { label: 'stable' } })).expose().toString(), 'first');
  assert.equal((await provider.lookup(req)).expose().toString(), 'second');
  emu.labelParameter('/rot', 2, 'stable');
  assert.equal(await provider.version({ ...req, options: { label: 'stable' } }), '2');
  await assert.rejects(provider.version({ path: '/absent', options: {}, signal: ctx.signal }), isCode('not_found'));
  await assert.rejects(provider.lookup({ ...req, options: { version: '1', label: 'stable' } }), isCode('invalid_argument'));
  await assert.rejects(provider.lookup({ ...req, options: { version: 'abc' } }), isCode('invalid_argument'));
  await assert.rejects(provider.lookup({ path: '/rot:1', options: {}, signal: ctx.signal }), isCode('invalid_argument'));
});

test('an aborted lookup is cancelled while the backend hangs', async (t) => {
  const { emu, provider } = await setup(t);
  emu.hang = true;
  const ac = new AbortController();
  const p = provider.lookup({ path: '/x', options: {}, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, isCode('cancelled'));
});

test('lookupMany uses GetParameters with 10 names per call and reports invalid ones as not_found', async (t) => {
  const { emu, provider } = await setup(t);
  const reqs = [];
  for (let i = 0; i < 12; i++) {
    emu.putParameter(`/p/${i}`, `pv-${i}`);
    reqs.push({ path: `/p/${i}`, options: {}, signal: ctx.signal });
  }
  emu.putParameter('/p/0', 'pv-0-new');
  reqs.push({ path: '/p/0', options: { version: '1' }, signal: ctx.signal });
  reqs.push({ path: '/p/missing', options: {}, signal: ctx.signal });
  const out = await provider.lookupMany(reqs, ctx.signal);
  assert.equal((out[0] as SecretValue).expose().toString(), 'pv-0-new');
  for (let i = 1; i < 12; i++) assert.equal((out[i] as SecretValue).expose().toString(), `pv-${i}`);
  assert.equal((out[12] as SecretValue).expose().toString(), 'pv-0');
  assert.ok(out[13] instanceof KeywayError && out[13].code === 'not_found');
  assert.equal(emu.calls.filter((c) => c === 'AmazonSSM.GetParameters').length, 2);
});
