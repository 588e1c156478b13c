import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { KeywayError } from '../../../src/core/errors.js';
import type { Provider, ProviderRequest } from '../../../src/core/provider.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { DEFAULT_POLICY } from '../../../src/broker/policy.js';
import { testBroker } from '../../helpers/broker.js';
import { attributes, grpcError, startHarness } from './harness.js';

const signal = new AbortController().signal;

/** A backend that authenticates as the workload: it wants the "vault" audience token. */
class WorkloadAuthProvider implements Provider {
  readonly type = 'memory';
  readonly name = 'kv';
  readonly optionKeys: string[] = [];
  readonly values = new Map<string, string>();
  readonly logins: { pod: string | undefined; token: string; role: string | undefined }[] = [];
  async lookup(req: ProviderRequest): Promise<SecretValue> {
    const t = req.identity?.tokens?.get('vault');
    if (!t) throw new KeywayError('unauthenticated', 'kv: no service account token for audience "vault"');
    this.logins.push({ pod: req.identity?.pod?.name, token: t.token.expose().toString(), role: req.identity?.params?.['role'] });
    const v = this.values.get(req.path);
    if (v === undefined) throw new KeywayError('not_found', `kv: nothing at ${req.path}`);
    return SecretValue.fromString(v);
  }
}

function broker(t: { after: (fn: () => void) => void }) {
  const kv = new WorkloadAuthProvider();
  // No value cache: the test changes a backend value and expects the next Mount to see it at once.
  const b = testBroker(t, [kv], { local: true, prefix: 'kw-csi-broker-', defaultPolicy: { ...DEFAULT_POLICY, ttlMs: 0 } });
  return { kv, broker: b.broker, named: b.named, audit: b.audit, stateDir: b.stateDir };
}

const OBJECTS = `
- objectName: db/password
  secret: db-password
- objectName: api-key
  ref: ref+kv://shop/api
- objectName: config.json
  secret: app-config
  mode: "0440"
`;
const TOKENS = { vault: { token: 'SA-TOKEN-CANARY-9d2', expirationTimestamp: '2026-11-22T07:00:00Z' } };

test('Mount through the real broker serves named secrets (local and by reference) and references', async (t) => {
  const b = broker(t);
  b.kv.values.set('shop/api', 'api-key-v1');
  b.kv.values.set('shop/config', '{"db":{"host":"db.shop"}}');
  await b.named.create({ name: 'db-password', value: SecretValue.fromString('pw-v1'), frontend: 'test' }, signal);
  await b.named.create({ name: 'app-config', ref: 'ref+kv://shop/config', frontend: 'test' }, signal);
  const h = await startHarness(t, b.broker, { stateDir: b.stateDir });
  const req = { attributes: attributes(OBJECTS, { providerParams: '{"role": "shop-web"}' }, TOKENS) };

  const first = await h.client.mount(req);
  assert.deepEqual(
    first.files.map((f) => [f.path, f.mode, f.contents.toString()]),
    [
      ['db/password', 0o644, 'pw-v1'],
      ['api-key', 0o644, 'api-key-v1'],
      ['config.json', 0o440, '{"db":{"host":"db.shop"}}'],
    ],
  );
  assert.deepEqual(b.kv.logins, [
    { pod: 'web-7c9d', token: 'SA-TOKEN-CANARY-9d2', role: 'shop-web' },
    { pod: 'web-7c9d', token: 'SA-TOKEN-CANARY-9d2', role: 'shop-web' },
  ]);
  // The audit log names the pod (by uid) and the csi frontend for every object; never a token.
  const rows = b.audit.query({}).filter((r) => r.action === 'resolve');
  assert.equal(rows.length, 3);
  for (const r of rows) {
    assert.equal(r.frontend, 'csi');
    assert.equal(r.consumer, '0f7c1e9a-5a43-4c1e-9d3e-2b1f6f1c7a10');
    assert.equal(r.outcome, 'ok');
  }
  assert.ok(!JSON.stringify(b.audit.query({})).includes('SA-TOKEN-CANARY'));

  // Rotate one local secret: only its version moves.
  await b.named.create({ name: 'db-password', value: SecretValue.fromString('pw-v2'), replace: true, frontend: 'test' }, signal);
  const second = await h.client.mount(req);
  const versions = (r: typeof first): string[] => r.object_version.map((v) => v.version);
  assert.notEqual(versions(second)[0], versions(first)[0]);
  assert.equal(versions(second)[1], versions(first)[1]);
  assert.equal(versions(second)[2], versions(first)[2]);
  assert.equal(second.files[0]?.contents.toString(), 'pw-v2');

  // And one behind a reference, changed in the backend.
  b.kv.values.set('shop/config', '{"db":{"host":"db2.shop"}}');
  const third = await h.client.mount(req);
  assert.deepEqual([versions(third)[0], versions(third)[1]], [versions(second)[0], versions(second)[1]]);
  assert.notEqual(versions(third)[2], versions(second)[2]);
});

test('without a service account token the provider refuses and the mount fails UNAUTHENTICATED', async (t) => {
  const b = broker(t);
  b.kv.values.set('shop/api', 'x');
  const h = await startHarness(t, b.broker, { stateDir: b.stateDir });
  await assert.rejects(h.client.mount({ attributes: attributes('- {objectName: api-key, ref: "ref+kv://shop/api"}') }), (e) => {
    const err = grpcError(e);
    assert.equal(err.code, status.UNAUTHENTICATED);
    assert.equal(err.keywayCode, 'unauthenticated');
    assert.match(err.details, /object "api-key": kv: no service account token/);
    return true;
  });
});

test('a missing named secret and an unknown provider are NOT_FOUND through the broker', async (t) => {
  const b = broker(t);
  const h = await startHarness(t, b.broker, { stateDir: b.stateDir });
  for (const [objects, re] of [
    ['- {objectName: a, secret: nope}', /object "a": no secret named "nope"/],
    ['- {objectName: a, ref: "ref+nowhere://x"}', /object "a": no provider named "nowhere"/],
  ] as const) {
    await assert.rejects(h.client.mount({ attributes: attributes(objects, {}, TOKENS) }), (e) => {
      const err = grpcError(e);
      assert.equal(err.code, status.NOT_FOUND);
      assert.match(err.details, re);
      return true;
    });
  }
});
