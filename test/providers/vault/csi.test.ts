// A CSI Mount through the real broker into the vault provider: Vault's Kubernetes auth runs with the
// pod's own service account token (audience "vault") and the role the SecretProviderClass asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { silentLogger } from '../../../src/core/logger.js';
import { DEFAULT_POLICY } from '../../../src/broker/policy.js';
import { vaultFactory } from '../../../src/providers/vault/index.js';
import { VaultProvider } from '../../../src/providers/vault/provider.js';
import { testBroker } from '../../helpers/broker.js';
import { VaultEmulator, makeJwt } from '../../emulators/vault/server.js';
import { attributes, grpcError, startHarness } from '../../frontends/csi/harness.js';

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const emu = await VaultEmulator.start();
  // The daemon's own token file does not exist: only the pod's token can log in.
  const vault = new VaultProvider('vault', vaultFactory.configSchema.parse({ address: emu.url, auth: { method: 'kubernetes', role: 'default-role', jwt_file: '/nonexistent/keyway-no-daemon-token' } }), { env: {}, logger: silentLogger() });
  t.after(async () => {
    await vault.close();
    await emu.close();
  });
  const kv = emu.state.mount('secret', 2);
  emu.state.putV2(kv, 'shop/db', { password: 'shop-db-pw', user: 'shop' });
  emu.state.putV2(kv, 'billing/db', { password: 'billing-db-pw' });
  emu.setPolicy('shop', { 'secret/data/shop/*': ['read'], 'secret/metadata/shop/*': ['read'] });
  emu.addKubernetesRole('shop-web', { boundServiceAccounts: ['shop/web'], policies: ['shop'], ttl: 600 });
  emu.addKubernetesRole('default-role', { boundServiceAccounts: [], policies: [], ttl: 600 });
  const { broker, stateDir } = testBroker(t, [vault], { prefix: 'kw-vault-csi-', defaultPolicy: { ...DEFAULT_POLICY, ttlMs: 0, retries: 0 } });
  const h = await startHarness(t, broker, { stateDir });
  return { emu, h };
}

const POD_JWT = makeJwt({ sub: 'system:serviceaccount:shop:web', aud: ['vault'] });
const TOKENS = { vault: { token: POD_JWT, expirationTimestamp: '2099-01-01T00:00:00Z' } };

test('a CSI mount logs in to Vault as the pod, with the role from providerParams, and gets the pod\'s secrets', async (t) => {
  const { emu, h } = await setup(t);
  const objects = '- {objectName: db-password, ref: "ref+vault://secret/shop/db#/password"}\n- {objectName: db-user, ref: "ref+vault://secret/shop/db?field=user"}';
  const res = await h.client.mount({ attributes: attributes(objects, { providerParams: '{"role": "shop-web"}' }, TOKENS) });
  assert.deepEqual(res.files.map((f) => [f.path, f.contents.toString()]), [['db-password', 'shop-db-pw'], ['db-user', 'shop']]);
  const logins = emu.loginTokens();
  assert.equal(logins.length, 1, 'one login for the pod, shared by its objects');
  assert.deepEqual([logins[0]?.meta.role, logins[0]?.meta.service_account], ['shop-web', 'shop/web']);
  assert.ok(!h.logs().includes(POD_JWT), 'the pod token is never logged');
  assert.ok(!h.logs().includes('shop-db-pw'));

  // The pod's policy does not reach another team's path: PERMISSION_DENIED, naming the object.
  await assert.rejects(h.client.mount({ attributes: attributes('- {objectName: x, ref: "ref+vault://secret/billing/db#/password"}', { providerParams: '{"role": "shop-web"}' }, TOKENS) }), (e) => {
    const err = grpcError(e);
    assert.equal(err.code, status.PERMISSION_DENIED);
    assert.match(err.details, /object "x": .*read secret\/billing\/db: permission denied/);
    assert.ok(!err.details.includes('billing-db-pw'));
    return true;
  });
  // A role the pod's service account is not bound to is refused by Vault.
  await assert.rejects(h.client.mount({ attributes: attributes('- {objectName: other, ref: "ref+vault://secret/shop/db#/password"}', { providerParams: '{"role": "default-role"}' }, TOKENS) }), (e) => grpcError(e).keywayCode === 'unauthenticated');
});
