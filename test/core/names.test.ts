import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import { validateFileName, validateSecretName, validateVolumeName } from '../../src/core/names.js';

for (const bad of ['', 'a/b', '..', '.', 'x'.repeat(254), 'a=b', 'a,b', 'a\0b', 'ref+x']) {
  test(`secret name ${JSON.stringify(bad.slice(0, 20))} is refused with invalid_argument`, () => {
    assert.throws(() => validateSecretName(bad), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument');
  });
}

test('a 253-character name and names with dots and dashes are accepted', () => {
  assert.equal(validateSecretName('x'.repeat(253)).length, 253);
  assert.equal(validateSecretName('db.password-1'), 'db.password-1');
});

test('volume names must also match the Docker volume pattern', () => {
  assert.throws(() => validateVolumeName('-x'), /must match/);
  assert.equal(validateVolumeName('db_1.x'), 'db_1.x');
});

test('file names refuse traversal, slashes, NUL and the atomic-writer prefix', () => {
  for (const bad of ['', '.', '..', 'a/b', 'a\0', '..data', 'x'.repeat(256)]) assert.throws(() => validateFileName(bad));
  assert.equal(validateFileName('tls.crt'), 'tls.crt');
});
