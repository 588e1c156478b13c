import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../src/core/logger.js';
import { vaultFactory } from '../../../src/providers/vault/index.js';
import { VaultProvider } from '../../../src/providers/vault/provider.js';
import { makeSelfSignedCert } from '../../emulators/vault/tls.js';
import { ensureTools } from '../../helpers/tools.js';
import { code as codeOf } from '../helpers.js';
import { req, setup, type TestContext } from './helpers.js';

const SECRET = 'transport-s3cr3t';

const code = (c: string, text?: RegExp) => codeOf(c, text, SECRET);

async function basic(t: TestContext) {
  const s = await setup(t);
  const kv = s.emu.state.mount('secret', 2);
  s.emu.state.putV2(kv, 'app', { password: SECRET });
  const root = s.emu.rootToken();
  return { ...s, kv, root, p: s.provider({}, { VAULT_TOKEN: root.id }) };
}

test('a sealed Vault is unavailable, a rate limit is throttled, and both recover', async (t) => {
  const { p, emu } = await basic(t);
  await p.lookup(req('secret/app'));
  emu.seal();
  await assert.rejects(p.lookup(req('secret/app')), code('unavailable', /Vault is sealed/));
  emu.unseal();
  emu.state.throttleNext = 1;
  await assert.rejects(p.lookup(req('secret/app')), code('throttled', /rate limited/));
  assert.equal((await p.lookup(req('secret/app', { field: 'password' }))).expose().toString(), SECRET);
});

test('a gateway before Vault: 502 is unavailable and 504 a timeout, each named so', async (t) => {
  const { p, emu } = await basic(t);
  emu.failure = { status: 502, body: undefined };
  await assert.rejects(p.lookup(req('secret/app')), code('unavailable', /Vault is unavailable \(HTTP 502\)/));
  emu.failure = { status: 504, body: undefined };
  await assert.rejects(p.lookup(req('secret/app')), code('timeout', /Vault did not answer in time \(HTTP 504 from a gateway before it\)/));
  emu.failure = undefined;
  assert.equal((await p.lookup(req('secret/app', { field: 'password' }))).expose().toString(), SECRET);
});

test('an unreachable server or a dropped connection is unavailable', async (t) => {
  const { p, emu, root } = await basic(t);
  emu.state.dropNext = 1;
  await assert.rejects(p.lookup(req('secret/app')), code('unavailable', /cannot reach http:\/\/127\.0\.0\.1/));
  const s2 = await setup(t);
  const url = s2.emu.url;
  await s2.emu.close();
  const down = new VaultProvider('down', vaultFactory.configSchema.parse({ address: url }), { env: { VAULT_TOKEN: root.id }, logger: silentLogger() });
  t.after(() => down.close());
  await assert.rejects(down.lookup(req('secret/app')), code('unavailable', /vault provider "down": request: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/));
});

test('an aborted request is cancelled and a deadline is a timeout, without waiting for Vault', async (t) => {
  const { p, emu } = await basic(t);
  await p.lookup(req('secret/app')); // mount detected and token described
  emu.state.delayMs = 5_000;
  const ac = new AbortController();
  const started = Date.now();
  const pending = p.lookup(req('secret/app', {}, { signal: ac.signal }));
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(pending, code('cancelled'));
  await assert.rejects(p.lookup(req('secret/app', {}, { signal: AbortSignal.timeout(50) })), code('timeout'));
  assert.ok(Date.now() - started < 4_000);
  const aborted = new AbortController();
  aborted.abort();
  await assert.rejects(p.lookup(req('secret/app', {}, { signal: aborted.signal })), code('cancelled'));
});

test('namespaces are sent as X-Vault-Namespace and scope both the mounts and the token', async (t) => {
  const s = await setup(t);
  const kv = s.emu.state.mount('secret', 2, 'team-a');
  s.emu.state.putV2(kv, 'app', { password: 'ns-pw' });
  const nsToken = s.emu.state.issueToken({ policies: ['root'], namespace: 'team-a' });
  const p = s.provider({ namespace: 'team-a/' }, { VAULT_TOKEN: nsToken.id });
  assert.equal((await p.lookup(req('secret/app', { field: 'password' }))).expose().toString(), 'ns-pw');
  assert.ok(s.emu.state.requests.every((r) => r.namespace === 'team-a'));
  const env = s.provider({}, { VAULT_TOKEN: nsToken.id, VAULT_NAMESPACE: 'team-a' });
  assert.equal((await env.lookup(req('secret/app', { field: 'password' }))).expose().toString(), 'ns-pw');
  // The same token outside its namespace is refused.
  const outside = s.provider({ mounts: { secret: 2 } }, { VAULT_TOKEN: nsToken.id });
  await assert.rejects(outside.lookup(req('secret/app')), code('unauthenticated'));
});

test('TLS works with ca_file and tls_server_name, and an untrusted certificate is a clear failed_precondition', { skip: ensureTools([['openssl', 'openssl']]) }, async (t) => {
  const cert = makeSelfSignedCert('vault.test');
  t.after(() => cert.cleanup());
  const s = await setup(t, { tls: { cert: cert.cert, key: cert.key } });
  const kv = s.emu.state.mount('secret', 2);
  s.emu.state.putV2(kv, 'app', { password: SECRET });
  const root = s.emu.rootToken();
  const p = s.provider({ ca_file: cert.certFile, tls_server_name: 'vault.test' }, { VAULT_TOKEN: root.id });
  assert.equal((await p.lookup(req('secret/app', { field: 'password' }))).expose().toString(), SECRET);
  const viaEnv = s.provider({}, { VAULT_TOKEN: root.id, VAULT_CACERT: cert.certFile, VAULT_TLS_SERVER_NAME: 'vault.test' });
  assert.equal((await viaEnv.lookup(req('secret/app', { field: 'password' }))).expose().toString(), SECRET);
  await assert.rejects(s.provider({}, { VAULT_TOKEN: root.id }).lookup(req('secret/app')), code('failed_precondition', /TLS certificate .* not accepted/));
  // Right CA, wrong name: 127.0.0.1 is not in the certificate.
  await assert.rejects(s.provider({ ca_file: cert.certFile }, { VAULT_TOKEN: root.id }).lookup(req('secret/app')), code('failed_precondition', /ERR_TLS_CERT_ALTNAME_INVALID/));
});

test('the factory is usable without config from VAULT_ADDR and VAULT_TOKEN, and says what is missing otherwise', async (t) => {
  const { emu, root } = await basic(t);
  const deps = { logger: silentLogger(), env: { VAULT_ADDR: emu.url, VAULT_TOKEN: root.id } } as unknown as Parameters<typeof vaultFactory.create>[2];
  const p = vaultFactory.create('vault', vaultFactory.configSchema.parse({}), deps);
  t.after(() => p.close?.());
  assert.equal((await p.lookup(req('secret/app', { field: 'password' }))).expose().toString(), SECRET);
  const none = vaultFactory.create('vault', vaultFactory.configSchema.parse({}), { ...deps, env: {} });
  await assert.rejects(none.lookup(req('secret/app')), code('failed_precondition', /no address .*VAULT_ADDR/));
  assert.throws(() => vaultFactory.configSchema.parse({ adress: 'x' }));
  assert.throws(() => vaultFactory.configSchema.parse({ auth: { method: 'approle', secret_id: 'inline' } }));
  assert.throws(() => vaultFactory.configSchema.parse({ address: 'ftp://x' }));
});
