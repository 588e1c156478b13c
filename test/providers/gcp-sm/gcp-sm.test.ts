import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gcpSmFactory } from '../../../src/providers/gcp-sm/index.js';
import { GcpSmProvider } from '../../../src/providers/gcp-sm/provider.js';
import { GcpEmulator } from '../../emulators/gcp/emulator.js';
import { isCode, testCtx } from '../../emulators/broker.js';
import { testBroker, UNCACHED_POLICY } from '../../helpers/broker.js';

const ctx = testCtx();
const P = 'emu-project';

async function setup(t: { after: (fn: () => unknown) => void }) {
  const emu = await new GcpEmulator().start();
  const dir = mkdtempSync(join(tmpdir(), 'kw-gcp-'));
  t.after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${emu.issueToken()}\n`, { mode: 0o600 });
  const make = (config: Record<string, unknown> = {}, env: Record<string, string> = {}) => new GcpSmProvider('gcp', gcpSmFactory.configSchema.parse({ endpoint: emu.url, timeout_ms: 5000, ...config }), env);
  const provider = make({ token_file: tokenFile });
  return { emu, dir, tokenFile, make, provider, broker: testBroker(t, [provider], { defaultPolicy: UNCACHED_POLICY }).broker };
}

test('a text secret resolves through the broker with the latest version', async (t) => {
  const { emu, broker } = await setup(t);
  emu.addVersion(P, 'db', 'old-gcp-value');
  emu.addVersion(P, 'db', 'gcp-text-value');
  assert.equal((await broker.resolve(`ref+gcp://${P}/db`, ctx)).value.expose().toString(), 'gcp-text-value');
  assert.equal((await broker.resolve(`ref+gcp://${P}/db?version=1`, ctx)).value.expose().toString(), 'old-gcp-value');
  assert.equal((await broker.resolve(`ref+gcp://projects/${P}/secrets/db/versions/1`, ctx)).value.expose().toString(), 'old-gcp-value');
  assert.equal((await broker.resolve(`ref+gcp://projects/${P}/secrets/db`, ctx)).value.expose().toString(), 'gcp-text-value');
});

test('binary payloads come back byte for byte', async (t) => {
  const { emu, broker } = await setup(t);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  emu.addVersion(P, 'bin', all);
  assert.deepEqual((await broker.resolve(`ref+gcp://${P}/bin`, ctx)).value.expose(), all);
});

test('a missing secret and a missing version are not_found', async (t) => {
  const { emu, broker } = await setup(t);
  emu.addVersion(P, 'one', 'v');
  await assert.rejects(broker.resolve(`ref+gcp://${P}/nope`, ctx), (e: unknown) => isCode('not_found')(e) && /secrets\/nope/.test((e as Error).message));
  await assert.rejects(broker.resolve(`ref+gcp://${P}/one?version=5`, ctx), isCode('not_found'));
});

test('a denied secret is permission_denied and disabled or destroyed versions are failed_precondition', async (t) => {
  const { emu, broker } = await setup(t);
  emu.addVersion(P, 'locked', 'gcp-locked-value');
  const s = emu.secrets.get(`${P}/locked`);
  if (s) s.denied = true;
  await assert.rejects(broker.resolve(`ref+gcp://${P}/locked`, ctx), isCode('permission_denied', 'gcp-locked-value'));
  emu.addVersion(P, 'st', 'gcp-st-a');
  emu.addVersion(P, 'st', 'gcp-st-b');
  emu.version(P, 'st', 2).state = 'DISABLED';
  await assert.rejects(broker.resolve(`ref+gcp://${P}/st`, ctx), (e: unknown) => isCode('failed_precondition', 'gcp-st-b')(e) && /DISABLED/.test((e as Error).message));
  emu.version(P, 'st', 2).state = 'DESTROYED';
  await assert.rejects(broker.resolve(`ref+gcp://${P}/st`, ctx), (e: unknown) => isCode('failed_precondition')(e) && /DESTROYED/.test((e as Error).message));
  assert.equal((await broker.resolve(`ref+gcp://${P}/st?version=1`, ctx)).value.expose().toString(), 'gcp-st-a');
});

test('a corrupted payload fails the CRC32C check', async (t) => {
  const { emu, broker, make, tokenFile } = await setup(t);
  emu.addVersion(P, 'c', 'gcp-crc-value');
  emu.version(P, 'c', 1).badCrc = true;
  await assert.rejects(broker.resolve(`ref+gcp://${P}/c`, ctx), isCode('checksum_mismatch', 'gcp-crc-value'));
  // Without a checksum in the answer the value is accepted, unless require_checksum is set.
  const v = emu.version(P, 'c', 1);
  v.badCrc = false;
  v.noCrc = true;
  assert.equal((await broker.resolve(`ref+gcp://${P}/c`, ctx)).value.expose().toString(), 'gcp-crc-value');
  const strict = make({ token_file: tokenFile, require_checksum: true });
  await assert.rejects(strict.lookup({ path: `${P}/c`, options: {}, signal: ctx.signal }), isCode('checksum_mismatch', 'gcp-crc-value'));
});

test('outages, server errors and quota errors map to retryable codes', async (t) => {
  const { emu, broker } = await setup(t);
  emu.addVersion(P, 'x', 'v');
  emu.failure = { status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } };
  await assert.rejects(broker.resolve(`ref+gcp://${P}/x`, ctx), isCode('unavailable'));
  emu.failure = { status: 429, body: { error: { code: 429, message: "Quota exceeded for quota metric 'Access requests'", status: 'RESOURCE_EXHAUSTED' } } };
  await assert.rejects(broker.resolve(`ref+gcp://${P}/x`, ctx), isCode('throttled'));
  emu.failure = undefined;
  const port = emu.port;
  await emu.stop();
  await assert.rejects(broker.resolve(`ref+gcp://${P}/x`, ctx), isCode('unavailable'));
  await emu.start(port);
  assert.equal((await broker.resolve(`ref+gcp://${P}/x`, ctx)).value.expose().toString(), 'v');
});

test('the version op resolves latest to a number from metadata and changes with a new version', async (t) => {
  const { emu, provider, broker } = await setup(t);
  emu.addVersion(P, 'rot', 'one');
  const req = { path: `${P}/rot`, options: {}, signal: ctx.signal };
  assert.equal(await provider.version(req), '1');
  assert.equal(await broker.version(`ref+gcp://${P}/rot`, ctx), 'p:1');
  emu.addVersion(P, 'rot', 'two');
  assert.equal(await provider.version(req), '2');
  assert.equal(await provider.version({ ...req, options: { version: '1' } }), '1');
  assert.deepEqual(new Set(emu.calls), new Set(['get']), 'no payload was accessed');
  emu.version(P, 'rot', 2).state = 'DISABLED';
  await assert.rejects(provider.version(req), isCode('failed_precondition'));
});

test('a service account key is exchanged for a token once and the key project is the default', async (t) => {
  const { emu, dir, make } = await setup(t);
  const keyFile = join(dir, 'sa.json');
  writeFileSync(keyFile, emu.serviceAccountKey(), { mode: 0o600 });
  emu.addVersion(P, 'db', 'sa-value');
  const p = make({}, { GOOGLE_APPLICATION_CREDENTIALS: keyFile });
  assert.equal((await p.lookup({ path: 'db', options: {}, signal: ctx.signal })).expose().toString(), 'sa-value');
  assert.equal((await p.lookup({ path: 'db', options: {}, signal: ctx.signal })).expose().toString(), 'sa-value');
  assert.equal(emu.seen.filter((r) => r.url.pathname === '/token').length, 1);
  // An expired or revoked token is replaced once, without failing the request.
  emu.revokeTokens();
  assert.equal((await p.lookup({ path: 'db', options: {}, signal: ctx.signal })).expose().toString(), 'sa-value');
  assert.equal(emu.seen.filter((r) => r.url.pathname === '/token').length, 2);
});

test('a key the token endpoint does not know is unauthenticated', async (t) => {
  const { emu, dir, make } = await setup(t);
  const other = new GcpEmulator();
  await other.start();
  t.after(() => other.stop());
  const foreign = JSON.parse(other.serviceAccountKey('stranger@x.iam.gserviceaccount.com')) as Record<string, unknown>;
  const keyFile = join(dir, 'foreign.json');
  writeFileSync(keyFile, JSON.stringify({ ...foreign, token_uri: `${emu.url}/token` }));
  emu.addVersion(P, 'db', 'v');
  const p = make({ credentials_file: keyFile });
  await assert.rejects(p.lookup({ path: `${P}/db`, options: {}, signal: ctx.signal }), (e: unknown) => isCode('unauthenticated')(e) && /invalid_grant/.test((e as Error).message));
  const notAKey = join(dir, 'user.json');
  writeFileSync(notAKey, JSON.stringify({ type: 'authorized_user', refresh_token: 'r' }));
  await assert.rejects(make({ credentials_file: notAKey }).lookup({ path: `${P}/db`, options: {}, signal: ctx.signal }), isCode('unsupported'));
});

test('an invalid static token is unauthenticated after one retry', async (t) => {
  const { emu, dir, make } = await setup(t);
  emu.addVersion(P, 'db', 'v');
  const bad = join(dir, 'bad-token');
  writeFileSync(bad, 'ya29.not-valid');
  await assert.rejects(make({ token_file: bad }).lookup({ path: `${P}/db`, options: {}, signal: ctx.signal }), isCode('unauthenticated'));
});

test('the metadata server supplies the token and the default project', async (t) => {
  const { emu, make } = await setup(t);
  emu.addVersion('meta-project', 'db', 'meta-value');
  const p = make({}, { GCE_METADATA_HOST: `127.0.0.1:${emu.port}` });
  assert.equal((await p.lookup({ path: 'db', options: {}, signal: ctx.signal })).expose().toString(), 'meta-value');
});

test('an aborted lookup is cancelled while the backend hangs', async (t) => {
  const { emu, provider } = await setup(t);
  emu.hang = true;
  const ac = new AbortController();
  const p = provider.lookup({ path: `${P}/x`, options: {}, signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, isCode('cancelled'));
});

test('malformed paths and options are invalid_argument before any request', async (t) => {
  const { emu, provider } = await setup(t);
  for (const [path, options] of [
    ['a/b/c', {}],
    ['projects/p/secrets/s/versions/1', { version: '2' }],
    ['p/bad secret', {}],
    ['p/s', { version: '1.5' }],
    ['projects/p/locations/l/secrets/s', {}],
  ] as const) {
    await assert.rejects(provider.lookup({ path, options, signal: ctx.signal }), isCode('invalid_argument'), path);
  }
  assert.equal(emu.seen.length, 0);
  assert.throws(() => gcpSmFactory.configSchema.parse({ token_file: 'relative' }));
  assert.throws(() => new GcpSmProvider('g', gcpSmFactory.configSchema.parse({ auth: 'service_account' }), {}), /credentials_file/);
});

test('without any credentials and no resolvable metadata server the error is unauthenticated, not an outage', async (t) => {
  const { emu, make } = await setup(t);
  const p = make({ metadata_endpoint: 'http://metadata.invalid' });
  await assert.rejects(p.lookup({ path: `${P}/x`, options: {}, signal: ctx.signal }), (e: unknown) => isCode('unauthenticated')(e) && /GOOGLE_APPLICATION_CREDENTIALS/.test((e as Error).message));
  assert.equal(emu.seen.length, 0);
});
