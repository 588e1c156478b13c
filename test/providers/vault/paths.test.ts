import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../../src/core/errors.js';
import { apiPath, matchMount, normalizePath } from '../../../src/providers/vault/paths.js';

const segment = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/') && s !== '.' && s !== '..');

test('API paths encode every segment, so no reference path can add a query, fragment or segment', () => {
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.array(segment, { minLength: 1, maxLength: 4 }), fc.constantFrom<1 | 2>(1, 2), (mount, rest, kv) => {
      const p = apiPath({ mount: mount.join('/'), rest: rest.join('/'), kv }, 'data');
      assert.ok(!/[?#]/.test(p));
      const parts = p.split('/').map(decodeURIComponent);
      assert.deepEqual(parts, kv === 2 ? [...mount, 'data', ...rest] : [...mount, ...rest]);
    }),
  );
});

test('normalizePath trims outer slashes and refuses empty, "." and ".." segments', () => {
  assert.equal(normalizePath('v', '/secret/app/'), 'secret/app');
  for (const bad of ['', '/', 'a//b', 'a/./b', 'a/../b', '..']) assert.throws(() => normalizePath('v', bad), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument');
  assert.equal(normalizePath('v', '/', true), '');
});

test('matchMount picks the longest mount at a segment boundary', () => {
  const mounts = ['secret', 'team/a', 'team/a/kv'];
  assert.equal(matchMount(mounts, 'team/a/kv/x'), 'team/a/kv');
  assert.equal(matchMount(mounts, 'team/a/kvx'), 'team/a');
  assert.equal(matchMount(mounts, 'secrets/x'), undefined);
  assert.equal(matchMount(mounts, 'secret'), 'secret');
});
