import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { azureKvFactory } from '../../../src/providers/azure-kv/index.js';
import { AzureKvProvider } from '../../../src/providers/azure-kv/provider.js';
import { parseChallenge } from '../../../src/providers/azure-kv/challenge.js';
import { AzureEmulator } from '../../emulators/azure/emulator.js';
import { isCode, testCtx } from '../../emulators/broker.js';
import { testBroker, UNCACHED_POLICY } from '../../helpers/broker.js';

const ctx = testCtx();
const CLIENT = 'app-1';
const CLIENT_SECRET = 'entra-client-secret-value';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const emu = await new AzureEmulator().start();
  emu.apps.set(CLIENT, { secret: CLIENT_SECRET });
  const dir = mkdtempSync(join(tmpdir(), 'kw-azure-'));
  t.after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const secretFile = join(dir, 'client-secret');
  writeFileSync(secretFile, `${CLIENT_SECRET}\n`, { mode: 0o600 });
  const make = (config: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
    new AzureKvProvider('kv', azureKvFactory.configSchema.parse({ vault_url: emu.url, authority_host: emu.url, verify_challenge_resource: false, timeout_ms: 5000, ...config }), env);
  const provider = make({ client_id: CLIENT, client_secret_file: secretFile });
  return { emu, dir, make, provider, broker: testBroker(t, [provider], { defaultPolicy: UNCACHED_POLICY }).broker };
}

test('the first request meets the 401 challenge, then a client-credentials token is used and reused', async (t) => {
  const { emu, broker } = await setup(t);
  emu.setSecret('db-password', 'azure-text-value');
  assert.equal((await broker.resolve('ref+kv://db-password', ctx)).value.expose().toString(), 'azure-text-value');
  const paths = emu.seen.map((r) => `${r.url.pathname} ${r.headers.authorization ? 'auth' : 'anon'}`);
  assert.deepEqual(paths, ['/secrets/db-password anon', `/${emu.tenant}/oauth2/v2.0/token anon`, '/secrets/db-password auth']);
  assert.equal((await broker.resolve('ref+kv://db-password', ctx)).value.expose().toString(), 'azure-text-value');
  assert.equal(emu.seen.length, 4, 'the second lookup needs no challenge and no token request');
});

test('the challenge resource must belong to the vault domain unless verification is off', async (t) => {
  const { emu, make, dir } = await setup(t);
  emu.setSecret('s', 'v');
  const strict = make({ client_id: CLIENT, client_secret_file: join(dir, 'client-secret'), verify_challenge_resource: true });
  await assert.rejects(strict.lookup({ path: 's', options: {}, signal: ctx.signal }), (e: unknown) => isCode('permission_denied')(e) && /not the vault's domain/.test((e as Error).message));
  assert.equal(emu.seen.filter((r) => r.url.pathname.includes('oauth2')).length, 0, 'no token was requested for a foreign resource');
});

test('a binary value stored as base64 is decoded with encoding=base64', async (t) => {
  const { emu, broker } = await setup(t);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  emu.setSecret('cert', all.toString('base64'), 'application/x-pkcs12');
  assert.deepEqual((await broker.resolve('ref+kv://cert?encoding=base64', ctx)).value.expose(), all);
});

test('a missing secret or version is not_found', async (t) => {
  const { emu, broker } = await setup(t);
  emu.setSecret('one', 'v');
  await assert.rejects(broker.resolve('ref+kv://nope', ctx), (e: unknown) => isCode('not_found')(e) && /SecretNotFound/.test((e as Error).message) && /nope/.test((e as Error).message));
  await assert.rejects(broker.resolve(`ref+kv://one/${'0'.repeat(32)}`, ctx), isCode('not_found'));
});

test('an access policy denial is permission_denied and a disabled secret is failed_precondition', async (t) => {
  const { emu, broker } = await setup(t);
  emu.setSecret('locked', 'azure-locked-value');
  const s = emu.secrets.get('locked');
  if (s) s.denied = true;
  await assert.rejects(broker.resolve('ref+kv://locked', ctx), isCode('permission_denied', 'azure-locked-value'));
  emu.setSecret('off', 'azure-off-value');
  const v = emu.secrets.get('off')?.versions[0];
  if (v) v.enabled = false;
  await assert.rejects(broker.resolve('ref+kv://off', ctx), (e: unknown) => isCode('failed_precondition', 'azure-off-value')(e) && /SecretDisabled/.test((e as Error).message));
});

test('outages, server errors and throttling map to retryable codes', async (t) => {
  const { emu, broker } = await setup(t);
  emu.setSecret('x', 'v');
  assert.equal((await broker.resolve('ref+kv://x', ctx)).value.expose().toString(), 'v');
  emu.failure = { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'The service is unavailable.' } } };
  await assert.rejects(broker.resolve('ref+kv://x', ctx), isCode('unavailable'));
  emu.failure = { status: 429, body: { error: { code: 'Throttled', message: 'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached' } } };
  await assert.rejects(broker.resolve('ref+kv://x', ctx), isCode('throttled'));
  emu.failure = undefined;
  const port = emu.port;
  await emu.stop();
  await assert.rejects(broker.resolve('ref+kv://x', ctx), isCode('unavailable'));
  await emu.start(port);
  assert.equal((await broker.resolve('ref+kv://x', ctx)).value.expose().toString(), 'v');
});

test('versions select values and the version op follows the current version', async (t) => {
  const { emu, provider, broker } = await setup(t);
  const v1 = emu.setSecret('rot', 'first');
  const req = { path: 'rot', options: {}, signal: ctx.signal };
  assert.equal(await provider.version(req), v1);
  assert.equal(await broker.version('ref+kv://rot', ctx), `p:${v1}`);
  const v2 = emu.setSecret('rot', 'second');
  assert.equal(await provider.version(req), v2);
  assert.equal((await provider.lookup({ ...req, options: { version: v1 } })).expose().toString(), 'first');
  assert.equal((await provider.lookup({ path: `rot/${v1}`, options: {}, signal: ctx.signal })).expose().toString(), 'first');
  assert.equal((await provider.lookup(req)).expose().toString(), 'second');
  await assert.rejects(provider.lookup({ path: `rot/${v1}`, options: { version: v2 }, signal: ctx.signal }), isCode('invalid_argument'));
});

test('a wrong client secret is unauthenticated and the message carries no secret', async (t) => {
  const { emu, make, dir } = await setup(t);
  emu.setSecret('s', 'azure-guarded-value');
  const wrong = join(dir, 'wrong');
  writeFileSync(wrong, 'not-the-client-secret');
  const p = make({ client_id: CLIENT, client_secret_file: wrong });
  await assert.rejects(p.lookup({ path: 's', options: {}, signal: ctx.signal }), (e: unknown) => isCode('unauthenticated', 'not-the-client-secret')(e) && /invalid_client/.test((e as Error).message));
  const envSecret = make({ client_id: CLIENT }, { AZURE_CLIENT_SECRET: CLIENT_SECRET });
  assert.equal((await envSecret.lookup({ path: 's', options: {}, signal: ctx.signal })).expose().toString(), 'azure-guarded-value');
  const wrongTenant = make({ client_id: CLIENT, tenant_id: 'other-tenant' }, { AZURE_CLIENT_SECRET: CLIENT_SECRET });
  await assert.rejects(wrongTenant.lookup({ path: 's', options: {}, signal: ctx.signal }), isCode('unauthenticated'));
});

test('a revoked token is replaced once without failing the request', async (t) => {
  const { emu, provider } = await setup(t);
  emu.setSecret('s', 'v');
  await provider.lookup({ path: 's', options: {}, signal: ctx.signal });
  emu.revokeTokens();
  assert.equal((await provider.lookup({ path: 's', options: {}, signal: ctx.signal })).expose().toString(), 'v');
  assert.equal(emu.seen.filter((r) => r.url.pathname.includes('oauth2')).length, 2);
});

test('managed identity tokens come from IMDS or the App Service identity endpoint', async (t) => {
  const { emu, make } = await setup(t);
  emu.setSecret('s', 'mi-value');
  const imds = make({ imds_endpoint: emu.url });
  assert.equal((await imds.lookup({ path: 's', options: {}, signal: ctx.signal })).expose().toString(), 'mi-value');
  const appService = make({}, { IDENTITY_ENDPOINT: `${emu.url}/msi/token`, IDENTITY_HEADER: emu.identityHeader });
  assert.equal((await appService.lookup({ path: 's', options: {}, signal: ctx.signal })).expose().toString(), 'mi-value');
  // A token the vault keeps refusing ends as unauthenticated after one retry, not a loop.
  emu.managedIdentityAudience = 'https://management.azure.com';
  const refused = make({ imds_endpoint: emu.url });
  const before = emu.seen.length;
  await assert.rejects(refused.lookup({ path: 's', options: {}, signal: ctx.signal }), (e: unknown) => isCode('unauthenticated')(e) && /AKV10022/.test((e as Error).message));
  assert.ok(emu.seen.length - before <= 5);
});

test('workload identity exchanges a federated token file', async (t) => {
  const { emu, make, dir } = await setup(t);
  emu.apps.set('wi-app', { assertion: 'k8s-sa-token' });
  emu.setSecret('s', 'wi-value');
  const file = join(dir, 'federated');
  writeFileSync(file, 'k8s-sa-token');
  const p = make({}, { AZURE_CLIENT_ID: 'wi-app', AZURE_FEDERATED_TOKEN_FILE: file });
  assert.equal((await p.lookup({ path: 's', options: {}, signal: ctx.signal })).expose().toString(), 'wi-value');
});

test('an aborted lookup is cancelled while the vault hangs', async (t) => {
  const { emu, provider } = await setup(t);
  emu.hang = true;
  const ac = new AbortController();
  const p = provider.lookup({ path: 's', options: {}, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, isCode('cancelled'));
});

test('malformed paths and options are refused before any request', async (t) => {
  const { emu, provider } = await setup(t);
  const noVault = new AzureKvProvider('kv', azureKvFactory.configSchema.parse({}), {});
  for (const [p, path, options] of [
    [provider, 'bad_name', {}],
    [provider, 'a/b/c', {}],
    [provider, 's/short', {}],
    [provider, 's', { encoding: 'hex' }],
    [noVault, 'x!/s', {}],
    [noVault, 'only-one', {}],
  ] as const) {
    await assert.rejects(p.lookup({ path, options, signal: ctx.signal }), isCode('invalid_argument'), path);
  }
  assert.equal(emu.seen.length, 0);
});

test('challenges with resource or scope parameters are both understood', () => {
  assert.deepEqual(parseChallenge('Bearer authorization="https://login.microsoftonline.com/tid-1", resource="https://vault.azure.net"', 'x'), { scope: 'https://vault.azure.net/.default', tenant: 'tid-1' });
  assert.deepEqual(parseChallenge('Bearer authorization_uri="https://login.microsoftonline.com/tid-2/oauth2/authorize", scope="https://vault.azure.net/.default"', 'x'), { scope: 'https://vault.azure.net/.default', tenant: 'tid-2' });
  assert.throws(() => parseChallenge('Basic realm="x"', 'x'), isCode('unauthenticated'));
  assert.throws(() => parseChallenge(undefined, 'x'), isCode('unauthenticated'));
});
