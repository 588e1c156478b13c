import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { csiService, encodeMountResponse } from '../../../src/frontends/csi/proto.js';
import { findPackageRoot, PROTO_RELATIVE, protoPath } from '../../../src/frontends/csi/proto-path.js';

const REPO = resolve(import.meta.dirname, '..', '..', '..');

test('the proto is found from src/ and from a dist/ layout alike', () => {
  assert.equal(protoPath(), join(REPO, PROTO_RELATIVE));
  assert.equal(findPackageRoot(join(REPO, 'dist', 'frontends', 'csi')), REPO);
  assert.equal(findPackageRoot(join(REPO, 'src', 'frontends', 'csi')), REPO);
});

test('the service has the driver method paths', () => {
  const svc = csiService();
  assert.equal(svc['Version']?.path, '/v1alpha1.CSIDriverProvider/Version');
  assert.equal(svc['Mount']?.path, '/v1alpha1.CSIDriverProvider/Mount');
});

test('MountResponse encodes with the documented field numbers', () => {
  const bytes = encodeMountResponse({ object_version: [{ id: 'a', version: 'v' }], files: [{ path: 'a', mode: 420, contents: Buffer.from('x') }], error: null });
  // object_version = 1 (ObjectVersion id = 1, version = 2), files = 3 (File path = 1, mode = 2, contents = 3).
  const expected = Buffer.from([0x0a, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x76, 0x1a, 0x09, 0x0a, 0x01, 0x61, 0x10, 0xa4, 0x03, 0x1a, 0x01, 0x78]);
  assert.deepEqual(bytes, expected);
  const withError = encodeMountResponse({ object_version: [], files: [], error: { code: 'not_found' } });
  assert.deepEqual(withError, Buffer.from([0x12, 0x0b, 0x0a, 0x09, ...Buffer.from('not_found')]));
});

test('MountRequest decodes the documented field numbers', () => {
  const mount = csiService()['Mount'];
  assert.ok(mount);
  // attributes = 1, secrets = 2, target_path = 3, permission = 4, current_object_version = 5.
  const wire = Buffer.from([0x0a, 0x02, 0x7b, 0x7d, 0x12, 0x02, 0x7b, 0x7d, 0x1a, 0x02, 0x2f, 0x74, 0x22, 0x03, 0x34, 0x32, 0x30, 0x2a, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x31]);
  assert.deepEqual(mount.requestDeserialize(wire), { attributes: '{}', secrets: '{}', target_path: '/t', permission: '420', current_object_version: [{ id: 'a', version: '1' }] });
});
