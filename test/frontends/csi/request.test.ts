import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../../src/core/errors.js';
import { parseMode, parseObjects } from '../../../src/frontends/csi/objects.js';
import { disposeIdentity, parseMountRequest, parsePermission, parseProviderParams, parseTokens } from '../../../src/frontends/csi/request.js';

const base = { secrets: '', target_path: '/t', permission: '420', current_object_version: [] };

test('parseObjects reads YAML, JSON and the array: form, with octal modes as in Kubernetes YAML', () => {
  assert.deepEqual(parseObjects('- objectName: a\n  secret: s\n  mode: 0400\n- objectName: b/c\n  ref: ref+vault://kv/x#k\n  mode: "0440"'), [
    { objectName: 'a', target: 's', mode: 0o400 },
    { objectName: 'b/c', target: 'ref+vault://kv/x#k', mode: 0o440 },
  ]);
  assert.deepEqual(parseObjects('[{"objectName": "a", "secret": "s", "mode": 256}]'), [{ objectName: 'a', target: 's', mode: 0o400 }]);
  assert.deepEqual(parseObjects('array:\n  - |\n    objectName: a\n    secret: s\n'), [{ objectName: 'a', target: 's' }]);
});

test('parseObjects refuses bad secret names and YAML with duplicate keys', () => {
  assert.throws(() => parseObjects('- {objectName: a, secret: "x/y"}'), /objects\[0\]\.secret/);
  assert.throws(() => parseObjects('- {objectName: a, secret: s, secret: t}'), /not valid YAML/);
});

test('a YAML error reports a position and not the offending text', () => {
  const err = (() => {
    try {
      parseObjects('- objectName: a\n  secret: PRIVATE-TEXT: [');
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  assert.ok(err);
  assert.match(err.message, /line \d+, column \d+/);
  assert.ok(!err.message.includes('PRIVATE-TEXT'));
});

test('parseMode and parsePermission accept real modes only', () => {
  assert.equal(parseMode('0640', 'm'), 0o640);
  assert.equal(parseMode('640', 'm'), 0o640);
  assert.equal(parseMode(0o600, 'm'), 0o600);
  for (const bad of [0, -1, 0o1000, 1.5, '0800', '4755', 'rw', true]) assert.throws(() => parseMode(bad, 'm'), /m /);
  assert.equal(parsePermission('420'), 0o644);
  assert.equal(parsePermission(''), 0o644);
  assert.equal(parsePermission('256'), 0o400);
  for (const bad of ['0', '512', '0o644', '-1', ' 420']) assert.throws(() => parsePermission(bad), /permission/);
});

test('parseTokens unwraps the double-encoded map into SecretValues', () => {
  const tokens = parseTokens(JSON.stringify({ vault: { token: 'T1', expirationTimestamp: 'E' }, aws: { token: 'T2' } }));
  assert.ok(tokens);
  assert.equal(tokens.get('vault')?.token.expose().toString(), 'T1');
  assert.equal(tokens.get('vault')?.expiresAt, 'E');
  assert.equal(tokens.get('aws')?.expiresAt, undefined);
  assert.equal(String(tokens.get('aws')?.token), '[SecretValue redacted]');
  assert.equal(parseTokens(''), undefined);
  assert.throws(() => parseTokens('{"vault": "T1"}'), /audience "vault" has no token/);
  assert.throws(() => parseTokens('"x"'), /keyed by audience/);
});

test('parseProviderParams takes a flat mapping of scalars', () => {
  assert.deepEqual(parseProviderParams('role: web\nttl: 60\nstrict: true'), { role: 'web', ttl: '60', strict: 'true' });
  assert.throws(() => parseProviderParams('role: [a]'), /providerParams\.role must be/);
  assert.throws(() => parseProviderParams('- a'), /mapping/);
  assert.throws(() => parseProviderParams('"bad key": x'), /key "bad key" is invalid/);
  assert.throws(() => parseProviderParams('a: &x v\nb: *x'), /not valid YAML or JSON/);
});

test('parseMountRequest builds the identity from csi.storage.k8s.io attributes', () => {
  const parsed = parseMountRequest({
    ...base,
    attributes: JSON.stringify({
      objects: '- {objectName: a, secret: s}',
      'csi.storage.k8s.io/pod.name': 'p',
      'csi.storage.k8s.io/pod.namespace': 'ns',
      'csi.storage.k8s.io/pod.uid': 'u',
      'csi.storage.k8s.io/serviceAccount.name': 'sa',
      'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ aud: { token: 'tok' } }),
      'secrets-store.csi.k8s.io/future-key': 'ignored',
    }),
  });
  assert.deepEqual(parsed.identity.pod, { name: 'p', namespace: 'ns', uid: 'u', serviceAccount: 'sa' });
  assert.equal(parsed.identity.consumer, 'u');
  assert.equal(parsed.defaultMode, 0o644);
  const tok = parsed.identity.tokens?.get('aud')?.token;
  assert.equal(tok?.expose().toString(), 'tok');
  disposeIdentity(parsed.identity);
  assert.equal(tok?.zeroed, true);
});

test('parseMountRequest refuses non-string attribute values without quoting them', () => {
  assert.throws(() => parseMountRequest({ ...base, attributes: '{"objects": {"nested": "SECRETISH"}}' }), (e: Error) => /value of "objects" must be a string/.test(e.message) && !e.message.includes('SECRETISH'));
});

test('any request either parses or fails invalid_argument, and no error quotes a token', () => {
  const canary = 'TOKCANARY';
  const piece = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('{', '}', '"', ':', ',', '[', ']', '\\', '- {objectName: a, secret: s}', 'objects', 'token'));
  const text = fc.array(piece, { maxLength: 8 }).map((p) => p.join(''));
  // Token positions: the tokens attribute, well-formed or broken, always holding the canary.
  const tokens = fc.oneof(
    fc.constant(JSON.stringify({ vault: { token: canary } })),
    fc.tuple(text, fc.nat(40)).map(([junk, cut]) => JSON.stringify({ vault: { token: canary, x: junk } }).slice(0, cut + 20)),
    fc.constant(`{"vault": "${canary}"}`),
    fc.constant(`{"vault": {"token": "${canary}", "expirationTimestamp": 5}}`),
  );
  const objects = fc.oneof(fc.constant('- {objectName: a, secret: s}'), text);
  const attrs = fc
    .tuple(fc.dictionary(fc.constantFrom('providerParams', 'csi.storage.k8s.io/pod.namespace', 'x/y'), text), objects, fc.option(tokens), fc.boolean())
    .map(([d, o, t, broken]) => {
      const json = JSON.stringify({ ...d, objects: o, ...(t === null ? {} : { 'csi.storage.k8s.io/serviceAccount.tokens': t }) });
      return broken ? json.slice(0, -3) : json;
    });
  fc.assert(
    fc.property(attrs, fc.oneof(fc.constant(''), fc.constant('{}'), text), fc.oneof(fc.constant('420'), text), (attributes, secrets, permission) => {
      try {
        const parsed = parseMountRequest({ attributes, secrets, permission, target_path: '/t', current_object_version: [] });
        disposeIdentity(parsed.identity);
      } catch (e) {
        assert.ok(e instanceof KeywayError, `not a KeywayError: ${String(e)}`);
        assert.equal(e.code, 'invalid_argument');
        assert.ok(!e.message.includes(canary), e.message);
      }
    }),
    { numRuns: 1500 },
  );
});
