import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { crc32c } from '../../../src/providers/gcp-sm/crc32c.js';
import { crc32c as bitwise } from '../../emulators/gcp/crc32c-reference.js';

test('crc32c matches the published check value and the RFC 3720 test vectors', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
});

test('the table-driven crc32c agrees with a bitwise implementation on arbitrary bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => crc32c(b) === bitwise(b)));
});
