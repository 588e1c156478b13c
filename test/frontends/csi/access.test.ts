import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { KeywayError } from '../../../src/core/errors.js';
import { accessSubject, checkAccess } from '../../../src/frontends/csi/access.js';
import { attributes, grpcError, MemoryResolver, startHarness } from './harness.js';

const POLICY = { shop: ['shop-*', 'ref+vault://kv/shop/*'], '*': ['public-ca'] };
const obj = (target: string) => ({ objectName: 'f', target });

test('accessSubject canonicalises references and named-secret spellings', () => {
  assert.equal(accessSubject('db'), 'db');
  assert.equal(accessSubject('ref+secret://db#key'), 'db');
  assert.equal(accessSubject('ref+vault://kv/%73hop/api#/data/key'), 'ref+vault://kv/shop/api');
  assert.throws(() => accessSubject('ref+vault://kv/shop/../admin'), { code: 'permission_denied' });
  assert.throws(() => accessSubject('ref+vault://kv/shop/%2e%2e/admin'), { code: 'permission_denied' });
});

test('checkAccess allows exact and prefix matches for the namespace and "*", and nothing else', () => {
  checkAccess(undefined, undefined, [obj('anything')]);
  checkAccess(POLICY, 'shop', [obj('shop-db'), obj('ref+vault://kv/shop/api#k'), obj('public-ca'), obj('ref+secret://shop-x')]);
  checkAccess(POLICY, 'other', [obj('public-ca')]);
  for (const [ns, target] of [['other', 'shop-db'], ['shop', 'ref+vault://kv/shopping/x'], ['shop', 'ref+vault://kv/shop/../bank/x'], [undefined, 'shop-db'], ['shop', 'public-ca-2']] as const) {
    assert.throws(() => checkAccess(POLICY, ns, [obj(target)]), (e) => e instanceof KeywayError && e.code === 'permission_denied', `${ns} ${target}`);
  }
});

test('a pod outside the allowed namespace is refused PERMISSION_DENIED before anything is fetched', async (t) => {
  const r = new MemoryResolver();
  r.set('shop-db', 'pw');
  r.set('public-ca', 'ca');
  const h = await startHarness(t, r, { access: POLICY });
  const ok = await h.client.mount({ attributes: attributes('- {objectName: db, secret: shop-db}\n- {objectName: ca, secret: public-ca}') });
  assert.equal(ok.files.length, 2);
  const calls = r.calls;
  await assert.rejects(h.client.mount({ attributes: attributes('- {objectName: ca, secret: public-ca}\n- {objectName: db, secret: shop-db}', { 'csi.storage.k8s.io/pod.namespace': 'attacker' }) }), (e) => {
    const err = grpcError(e);
    assert.equal(err.code, status.PERMISSION_DENIED);
    assert.equal(err.keywayCode, 'permission_denied');
    assert.match(err.details, /object "db": namespace "attacker" may not mount it/);
    return true;
  });
  assert.equal(r.calls, calls, 'nothing fetched for the refused mount');
  assert.ok(!h.logs().includes('no [csi.access] policy'));
});

test('without a policy the provider warns once at start', async (t) => {
  const h = await startHarness(t, new MemoryResolver());
  assert.match(h.logs(), /no \[csi\.access\] policy/);
});
