import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../../src/core/errors.js';
import { parseRequest } from '../../../src/frontends/podman/plugin-protocol.js';
import { isProviderRequest } from '../../../src/frontends/podman/plugin.js';

test('a store request splits into header fields and the exact payload bytes', () => {
  const payload = Buffer.from([0, 10, 255, 10]);
  const req = parseRequest(Buffer.concat([Buffer.from('{"Op":"store","ID":"abc","DriverOpts":{},"Size":4}\n'), payload]));
  assert.equal(req.kind, 'driver');
  if (req.kind !== 'driver') return;
  assert.equal(req.op, 'store');
  assert.equal(req.id, 'abc');
  assert.deepEqual(req.payload.expose(), payload);
});

test('any input either parses or fails with a KeywayError that never quotes the payload', () => {
  const marker = 'PAYLOAD-MARKER';
  const header = fc.record(
    { Op: fc.constantFrom('store', 'lookup', 'delete', 'list', 'bogus', 7), ID: fc.constantFrom('abc', '', '..', 5), Size: fc.oneof(fc.integer({ min: -2, max: 40 }), fc.constant(1.5), fc.constant('3')), SecretName: fc.constantFrom('db', ''), DriverOpts: fc.constantFrom({}, { ref: 'ref+x://y' }, { colour: 'red' }, 'x') },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(header, fc.boolean(), fc.uint8Array({ maxLength: 40 }), (h, newline, tail) => {
      const input = Buffer.concat([Buffer.from(JSON.stringify(h) + (newline ? '\n' : '')), Buffer.from(marker), Buffer.from(tail)]);
      try {
        const r = parseRequest(input);
        if (r.kind === 'driver') r.payload.zero();
      } catch (e) {
        assert.ok(e instanceof KeywayError, String(e));
        assert.ok(!e.message.includes(marker));
      }
    }),
    { numRuns: 300 },
  );
});

test('provider requests are told apart from driver requests, malformed or not', () => {
  assert.equal(isProviderRequest(Buffer.from('{"SecretName":"db"}')), true);
  assert.equal(isProviderRequest(Buffer.from('{"SecretName":"db","Size":3}\nabc')), true);
  assert.equal(isProviderRequest(Buffer.from('{"Op":"lookup","SecretName":"db"}\n')), false);
  assert.equal(isProviderRequest(Buffer.from('not json')), false);
});
