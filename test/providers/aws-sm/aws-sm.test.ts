import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../../src/core/errors.js';
import type { SecretValue } from '../../../src/core/secret-value.js';
import { awsSmFactory } from '../../../src/providers/aws-sm/index.js';
import { AwsSmProvider } from '../../../src/providers/aws-sm/provider.js';
import { AwsError } from '../../emulators/aws/emulator.js';
import { awsFixture } from '../../emulators/aws/fixture.js';
import { MetadataEmulator } from '../../emulators/aws/imds.js';
import { isCode, testCtx } from '../../emulators/broker.js';
import { testBroker, UNCACHED_POLICY } from '../../helpers/broker.js';
import { envOnlyDeps } from '../helpers.js';

const AKID = 'AKIDKEYWAYTEST0001';
const SECRET_KEY = 'kw-test-secret-access-key';

async function setup(t: { after: (fn: () => unknown) => void }, env: Record<string, string> = {}, config: Record<string, unknown> = {}) {
  const { emu, home, env: base } = await awsFixture(t, { akid: AKID, secretKey: SECRET_KEY });
  const fullEnv = { ...base, ...env };
  const provider = new AwsSmProvider('aws', awsSmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 5000, ...config }), fullEnv);
  return { emu, provider, home, broker: testBroker(t, [provider], { defaultPolicy: UNCACHED_POLICY }).broker };
}

const ctx = testCtx();

test('a text secret resolves through the broker', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putSecret('app/db', 's3cr3t-text');
  const r = await broker.resolve('ref+aws://app/db', ctx);
  assert.equal(r.value.expose().toString(), 's3cr3t-text');
  assert.deepEqual(emu.calls, ['secretsmanager.GetSecretValue']);
});

test('a SecretBinary value comes back as the exact bytes', async (t) => {
  const { emu, broker } = await setup(t);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  emu.putSecret('bin', all);
  assert.deepEqual((await broker.resolve('ref+aws://bin', ctx)).value.expose(), all);
});

test('a secret can be named by its ARN', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putSecret('by-arn', 'v');
  const arn = emu.secrets.get('by-arn')?.arn ?? '';
  assert.equal((await broker.resolve(`ref+aws://${arn}`, ctx)).value.expose().toString(), 'v');
});

test('a JSON fragment selects one field and a missing field is not_found without the value', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putSecret('app/json', JSON.stringify({ db: { user: 'u', password: 'pw-in-json-123' } }));
  assert.equal((await broker.resolve('ref+aws://app/json#/db/password', ctx)).value.expose().toString(), 'pw-in-json-123');
  assert.equal((await broker.resolve('ref+aws://app/json#db', ctx)).value.expose().toString(), '{"user":"u","password":"pw-in-json-123"}');
  await assert.rejects(broker.resolve('ref+aws://app/json#/db/nope', ctx), isCode('not_found', 'pw-in-json-123'));
});

test('a missing secret is not_found and names the secret', async (t) => {
  const { broker } = await setup(t);
  await assert.rejects(broker.resolve('ref+aws://no/such', ctx), (e: unknown) => isCode('not_found')(e) && /no\/such/.test((e as Error).message) && /ResourceNotFoundException/.test((e as Error).message));
});

test('an IAM denial and a KMS decryption failure are permission_denied', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putSecret('denied', 'value-denied-1');
  emu.putSecret('kms', 'value-kms-1');
  const d = emu.secrets.get('denied');
  const k = emu.secrets.get('kms');
  if (d) d.denied = true;
  if (k) k.kmsDenied = true;
  await assert.rejects(broker.resolve('ref+aws://denied', ctx), isCode('permission_denied', 'value-denied-1'));
  await assert.rejects(broker.resolve('ref+aws://kms', ctx), (e: unknown) => isCode('permission_denied', 'value-kms-1')(e) && /DecryptionFailure/.test((e as Error).message));
});

test('a secret marked for deletion is failed_precondition', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putSecret('gone', 'x');
  const s = emu.secrets.get('gone');
  if (s) s.deleted = true;
  await assert.rejects(broker.resolve('ref+aws://gone', ctx), isCode('failed_precondition'));
});

test('a stopped backend is unavailable, a 500 is unavailable, throttling is throttled, and service comes back', async (t) => {
  const { emu, broker } = await setup(t);
  emu.putSecret('x', 'v');
  emu.failure = new AwsError('InternalServiceError', 'An error occurred on the server side.', 500);
  await assert.rejects(broker.resolve('ref+aws://x', ctx), isCode('unavailable'));
  emu.failure = new AwsError('ThrottlingException', 'Rate exceeded');
  await assert.rejects(broker.resolve('ref+aws://x', ctx), isCode('throttled'));
  emu.failure = undefined;
  const port = emu.port;
  await emu.stop();
  await assert.rejects(broker.resolve('ref+aws://x', ctx), isCode('unavailable'));
  await emu.start(port);
  assert.equal((await broker.resolve('ref+aws://x', ctx)).value.expose().toString(), 'v');
});

test('a wrong secret key, an unknown key id and a wrong region are unauthenticated', async (t) => {
  const { emu, home } = await setup(t);
  emu.putSecret('x', 'v');
  const base = { HOME: home, AWS_EC2_METADATA_DISABLED: 'true' };
  const cfg = awsSmFactory.configSchema.parse({ endpoint: emu.url });
  const wrongKey = new AwsSmProvider('a', cfg, { ...base, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: 'wrong' });
  await assert.rejects(wrongKey.lookup({ path: 'x', options: {}, signal: ctx.signal }), (e: unknown) => isCode('unauthenticated')(e) && /InvalidSignatureException/.test((e as Error).message));
  const unknown = new AwsSmProvider('a', cfg, { ...base, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDUNKNOWN', AWS_SECRET_ACCESS_KEY: SECRET_KEY });
  await assert.rejects(unknown.lookup({ path: 'x', options: {}, signal: ctx.signal }), (e: unknown) => isCode('unauthenticated')(e) && /UnrecognizedClientException/.test((e as Error).message));
  const region = new AwsSmProvider('a', cfg, { ...base, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
  await assert.rejects(region.lookup({ path: 'x', options: {}, signal: ctx.signal }), isCode('unauthenticated'));
  // The region query option overrides the configured region per reference.
  assert.equal((await region.lookup({ path: 'x', options: { region: 'us-east-1' }, signal: ctx.signal })).expose().toString(), 'v');
});

test('session tokens from the environment are sent and checked', async (t) => {
  const { emu, home } = await setup(t);
  emu.addKey('ASIATEMP', 'temp-secret', 'session-token-1');
  emu.putSecret('x', 'v');
  const env = { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'ASIATEMP', AWS_SECRET_ACCESS_KEY: 'temp-secret' };
  const cfg = awsSmFactory.configSchema.parse({ endpoint: emu.url });
  const ok = new AwsSmProvider('a', cfg, { ...env, AWS_SESSION_TOKEN: 'session-token-1' });
  assert.equal((await ok.lookup({ path: 'x', options: {}, signal: ctx.signal })).expose().toString(), 'v');
  const missing = new AwsSmProvider('a', cfg, env);
  await assert.rejects(missing.lookup({ path: 'x', options: {}, signal: ctx.signal }), isCode('unauthenticated'));
});

test('a profile from the shared credentials file and its region from the config file are used', async (t) => {
  const { emu, home } = await setup(t);
  emu.putSecret('x', 'from-profile');
  mkdirSync(join(home, '.aws'));
  writeFileSync(join(home, '.aws', 'credentials'), `[default]\naws_access_key_id = WRONG\naws_secret_access_key = wrong\n\n[ci]\naws_access_key_id = ${AKID}\naws_secret_access_key = ${SECRET_KEY}\n`);
  writeFileSync(join(home, '.aws', 'config'), '[profile ci]\nregion = us-east-1\n');
  const env = { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'IGNORED', AWS_SECRET_ACCESS_KEY: 'ignored' };
  const p = new AwsSmProvider('a', awsSmFactory.configSchema.parse({ endpoint: emu.url, profile: 'ci' }), env);
  assert.equal((await p.lookup({ path: 'x', options: {}, signal: ctx.signal })).expose().toString(), 'from-profile');
  const viaEnv = new AwsSmProvider('a', awsSmFactory.configSchema.parse({ endpoint: emu.url }), { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: 'ci' });
  assert.equal((await viaEnv.lookup({ path: 'x', options: {}, signal: ctx.signal })).expose().toString(), 'from-profile');
  const none = new AwsSmProvider('a', awsSmFactory.configSchema.parse({ endpoint: emu.url, profile: 'absent', region: 'us-east-1' }), env);
  await assert.rejects(none.lookup({ path: 'x', options: {}, signal: ctx.signal }), isCode('unauthenticated'));
});

test('instance metadata (IMDSv2) and container endpoints supply temporary credentials', async (t) => {
  const { emu, home } = await setup(t);
  emu.addKey('ASIAROLE', 'role-secret', 'role-token');
  emu.putSecret('x', 'from-role');
  const md = await new MetadataEmulator({ AccessKeyId: 'ASIAROLE', SecretAccessKey: 'role-secret', Token: 'role-token', Expiration: new Date(Date.now() + 3600_000).toISOString() }).start();
  t.after(() => md.stop());
  const cfg = awsSmFactory.configSchema.parse({ endpoint: emu.url, region: 'us-east-1' });
  const imds = new AwsSmProvider('a', cfg, { HOME: home, AWS_EC2_METADATA_SERVICE_ENDPOINT: md.url });
  assert.equal((await imds.lookup({ path: 'x', options: {}, signal: ctx.signal })).expose().toString(), 'from-role');
  md.containerAuthorization = 'Bearer container-auth';
  const ecs = new AwsSmProvider('a', cfg, { HOME: home, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${md.url}/v2/credentials/task`, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer container-auth' });
  assert.equal((await ecs.lookup({ path: 'x', options: {}, signal: ctx.signal })).expose().toString(), 'from-role');
  const noCreds = new AwsSmProvider('a', cfg, { HOME: home, AWS_EC2_METADATA_DISABLED: 'true' });
  await assert.rejects(noCreds.lookup({ path: 'x', options: {}, signal: ctx.signal }), isCode('unauthenticated'));
});

test('expired temporary credentials are fetched again and the request retried once', async (t) => {
  const { emu, home } = await setup(t);
  const first = emu.addKey('ASIAFIRST', 'first-secret', 'first-token');
  emu.addKey('ASIASECOND', 'second-secret', 'second-token');
  emu.putSecret('x', 'after-refresh');
  const md = await new MetadataEmulator({ AccessKeyId: 'ASIAFIRST', SecretAccessKey: 'first-secret', Token: 'first-token', Expiration: new Date(Date.now() + 3600_000).toISOString() }).start();
  t.after(() => md.stop());
  const p = new AwsSmProvider('a', awsSmFactory.configSchema.parse({ endpoint: emu.url, region: 'us-east-1' }), { HOME: home, AWS_EC2_METADATA_SERVICE_ENDPOINT: md.url });
  assert.equal((await p.lookup({ path: 'x', options: {}, signal: ctx.signal })).expose().toString(), 'after-refresh');
  // The role's credentials rotate and the cached ones are revoked early.
  first.expired = true;
  md.credentials = { AccessKeyId: 'ASIASECOND', SecretAccessKey: 'second-secret', Token: 'second-token', Expiration: new Date(Date.now() + 3600_000).toISOString() };
  assert.equal((await p.lookup({ path: 'x', options: {}, signal: ctx.signal })).expose().toString(), 'after-refresh');
});

test('profiles that assume roles or run processes are refused as unsupported', async (t) => {
  const { emu, home } = await setup(t);
  mkdirSync(join(home, '.aws'));
  writeFileSync(join(home, '.aws', 'config'), '[profile assume]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = default\n');
  const p = new AwsSmProvider('a', awsSmFactory.configSchema.parse({ endpoint: emu.url, profile: 'assume', region: 'us-east-1' }), { HOME: home });
  await assert.rejects(p.lookup({ path: 'x', options: {}, signal: ctx.signal }), (e: unknown) => isCode('unsupported')(e) && /role_arn/.test((e as Error).message));
});

test('the version op follows AWSCURRENT and detects a change without reading the value', async (t) => {
  const { emu, provider, broker } = await setup(t);
  const v1 = emu.putSecret('rot', 'one');
  const req = { path: 'rot', options: {}, signal: ctx.signal };
  assert.equal(await provider.version(req), v1);
  assert.equal(await broker.version('ref+aws://rot', ctx), `p:${v1}`);
  const v2 = emu.putSecret('rot', 'two');
  assert.equal(await provider.version(req), v2);
  assert.equal(await provider.version({ ...req, options: { version_stage: 'AWSPREVIOUS' } }), v1);
  assert.equal(await provider.version({ ...req, options: { version_id: v1 } }), v1);
  assert.ok(!emu.calls.includes('secretsmanager.GetSecretValue'), 'version uses DescribeSecret only');
  assert.equal((await provider.lookup({ ...req, options: { version_id: v1 } })).expose().toString(), 'one');
  assert.equal((await provider.lookup({ ...req, options: { version_stage: 'AWSPREVIOUS' } })).expose().toString(), 'one');
  assert.equal((await provider.lookup(req)).expose().toString(), 'two');
  await assert.rejects(provider.version({ ...req, options: { version_stage: 'NOPE' } }), isCode('not_found'));
  await assert.rejects(provider.lookup({ ...req, options: { version_id: 'not-a-uuid' } }), isCode('invalid_argument'));
});

test('an aborted lookup is cancelled promptly while the backend hangs', async (t) => {
  const { emu, provider } = await setup(t);
  emu.putSecret('x', 'v');
  emu.hang = true;
  const ac = new AbortController();
  const p = provider.lookup({ path: 'x', options: {}, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const started = Date.now();
  await assert.rejects(p, isCode('cancelled'));
  assert.ok(Date.now() - started < 4000);
  await assert.rejects(provider.lookup({ path: 'x', options: {}, signal: ac.signal }), isCode('cancelled'));
});

test('a hanging backend hits the configured timeout', async (t) => {
  const { emu } = await setup(t);
  emu.hang = true;
  const p = new AwsSmProvider('a', awsSmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 200 }), { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: SECRET_KEY });
  await assert.rejects(p.lookup({ path: 'x', options: {}, signal: ctx.signal }), isCode('timeout'));
});

test('lookupMany batches 20 ids per BatchGetSecretValue call, follows NextToken and keeps per-secret errors', async (t) => {
  const { emu, provider } = await setup(t);
  emu.batchPageSize = 7;
  const reqs = [];
  for (let i = 0; i < 23; i++) {
    emu.putSecret(`s${i}`, `value-${i}`);
    reqs.push({ path: `s${i}`, options: {}, signal: ctx.signal });
  }
  const denied = emu.secrets.get('s3');
  if (denied) denied.denied = true;
  reqs.push({ path: 'missing', options: {}, signal: ctx.signal });
  reqs.push({ path: 's5', options: { version_stage: 'AWSCURRENT' }, signal: ctx.signal });
  const out = await provider.lookupMany(reqs, ctx.signal);
  assert.equal(out.length, 25);
  out.forEach((r, i) => {
    if (i === 3) assert.ok(r instanceof KeywayError && r.code === 'permission_denied');
    else if (i === 23) assert.ok(r instanceof KeywayError && r.code === 'not_found');
    else assert.equal((r as SecretValue).expose().toString(), `value-${i === 24 ? 5 : i}`);
  });
  const batchCalls = emu.calls.filter((c) => c === 'secretsmanager.BatchGetSecretValue').length;
  assert.equal(batchCalls, 3 + 1, '20 ids in 3 pages of 7, then 4 ids in one page');
  assert.equal(emu.calls.filter((c) => c === 'secretsmanager.GetSecretValue').length, 1, 'only the versioned request is single');
});

test('lookupMany falls back to single lookups when BatchGetSecretValue is denied', async (t) => {
  const { emu, provider } = await setup(t);
  emu.deniedActions.add('secretsmanager.BatchGetSecretValue');
  emu.putSecret('a', '1');
  emu.putSecret('b', '2');
  const out = await provider.lookupMany(['a', 'b'].map((p) => ({ path: p, options: {}, signal: ctx.signal })), ctx.signal);
  assert.deepEqual(out.map((v) => (v as SecretValue).expose().toString()), ['1', '2']);
});

test('list follows pagination and filters by prefix', async (t) => {
  const { emu, provider } = await setup(t);
  for (const n of ['app/a', 'app/b', 'app/c', 'other/x', 'app/d']) emu.putSecret(n, 'v');
  assert.deepEqual(await provider.list({ signal: ctx.signal }), ['app/a', 'app/b', 'app/c', 'app/d', 'other/x']);
  assert.deepEqual(await provider.list({ prefix: 'app/', signal: ctx.signal }), ['app/a', 'app/b', 'app/c', 'app/d']);
});

test('the config schema is strict, and the factory works without config from the environment', () => {
  assert.throws(() => awsSmFactory.configSchema.parse({ regoin: 'x' }));
  assert.throws(() => awsSmFactory.configSchema.parse({ endpoint: 'ftp://x' }));
  assert.equal(awsSmFactory.usableWithoutConfig, true);
  const p = awsSmFactory.create('aws-sm', awsSmFactory.configSchema.parse({}), envOnlyDeps());
  assert.equal(p.type, 'aws-sm');
  assert.deepEqual([...p.optionKeys].sort(), ['region', 'version_id', 'version_stage']);
});

test('no region anywhere is a clear failed_precondition before any request', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'kw-aws-home-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const p = new AwsSmProvider('a', awsSmFactory.configSchema.parse({}), { HOME: home });
  await assert.rejects(p.lookup({ path: 'x', options: {}, signal: ctx.signal }), (e: unknown) => isCode('failed_precondition')(e) && /^aws-sm provider "a": no AWS region .*AWS_REGION/.test((e as Error).message));
});
