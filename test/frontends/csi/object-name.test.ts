import { test } from 'node:test';
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import fc from 'fast-check';
import { KeywayError } from '../../../src/core/errors.js';
import { checkDistinctNames, validateObjectName } from '../../../src/frontends/csi/object-name.js';

test('validateObjectName accepts relative clean paths, nested ones included', () => {
  for (const n of ['password', 'db/password', 'tls.crt', '.hidden', 'a..b', 'a/b/c.json', 'x'.repeat(255)]) assert.equal(validateObjectName(n, 0), n);
});

test('validateObjectName refuses traversal, absolute, unclean and oversized names', () => {
  const bad = ['', '../x', '..', '.', '/abs', 'a/../../b', 'a/./b', 'a//b', 'a/', '..data', 'd/..2026', 'a\\b', 'a\u0000b', 'a\nb', 'x'.repeat(256), `${'d/'.repeat(2048)}f`];
  for (const n of bad) assert.throws(() => validateObjectName(n, 3), (e) => e instanceof KeywayError && e.code === 'invalid_argument' && /objects\[3\]/.test(e.message), JSON.stringify(n.slice(0, 20)));
  assert.throws(() => validateObjectName(7, 0), /must be a string/);
});

test('every accepted name stays inside the volume once joined to it', () => {
  const element = fc.oneof(fc.constantFrom('.', '..', '', '...', '..a', 'a', 'b.c', '/'), fc.string({ maxLength: 6 }));
  fc.assert(
    fc.property(fc.array(element, { minLength: 1, maxLength: 6 }), fc.boolean(), (parts, abs) => {
      const name = (abs ? '/' : '') + parts.join('/');
      let ok: string;
      try {
        ok = validateObjectName(name, 0);
      } catch (e) {
        assert.ok(e instanceof KeywayError && e.code === 'invalid_argument');
        return;
      }
      const root = '/var/lib/kubelet/pods/p/volumes/v/mount';
      const joined = posix.join(root, ok);
      assert.ok(joined.startsWith(`${root}/`), `${JSON.stringify(ok)} escapes to ${joined}`);
      // Clean: joining does not rewrite it.
      assert.equal(joined, `${root}/${ok}`);
      assert.ok(!ok.split('/').some((p) => p.startsWith('..')));
    }),
    { numRuns: 2000 },
  );
});

test('checkDistinctNames refuses duplicates and a file that is another object\'s directory', () => {
  checkDistinctNames(['a', 'b/c', 'b/d', 'bc']);
  assert.throws(() => checkDistinctNames(['a', 'b', 'a']), /"a" is used by objects\[0\] and objects\[2\]/);
  assert.throws(() => checkDistinctNames(['x/y/z', 'x/y']), /"x\/y" of objects\[1\] is also a directory of objects\[0\]/);
});
