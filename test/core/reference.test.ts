import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../src/core/errors.js';
import { formatReference, parseReference, type Reference } from '../../src/core/reference.js';

test('parse reads provider, path, options and a JSON pointer fragment', () => {
  const r = parseReference('ref+vault://secret/data/app?version=3#/db/password');
  assert.deepEqual(r, { provider: 'vault', path: 'secret/data/app', query: { version: '3' }, pointer: ['db', 'password'] });
});

test('a fragment without a leading slash is shorthand for one key', () => {
  assert.deepEqual(parseReference('ref+aws-sm://prod/db#password').pointer, ['password']);
});

test('pointer escapes ~0 and ~1 and percent-escapes are decoded', () => {
  const r = parseReference('ref+local://a%20b#/x~1y/~0z');
  assert.equal(r.path, 'a b');
  assert.deepEqual(r.pointer, ['x/y', '~z']);
});

for (const [input, fragment] of [
  ['vault://x', 'must start with "ref+"'],
  ['ref+vault:/x', 'missing "://"'],
  ['ref+Vault://x', 'provider name "Vault" is invalid'],
  ['ref+vault://', 'path is empty'],
  ['ref+vault://a?', 'query string after "?" is empty'],
  ['ref+vault://a?version', 'has no value'],
  ['ref+vault://a?version=', 'has an empty value'],
  ['ref+vault://a?v=1&v=2', 'is repeated'],
  ['ref+vault://a?Bad=1', 'query key "Bad" is invalid'],
  ['ref+vault://a#', 'fragment after "#" is empty'],
  ['ref+vault://a#/x~2', 'not followed by 0 or 1'],
  ['ref+vault://a%zz', 'malformed percent-escape'],
  ['ref+vault://a b', 'control character or space at offset 1'],
  ['ref+vault://a%00', 'NUL'],
] as const) {
  test(`parse refuses ${JSON.stringify(input)} naming the bad part`, () => {
    assert.throws(() => parseReference(input), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && e.message.includes(fragment));
  });
}

test('error messages never echo query values (they might be pasted secrets)', () => {
  const secret = 'S3cr3t-VALUE-xyz';
  for (const input of [`ref+vault://a?k=${secret}&k=${secret}`, `ref+vault://a?K=${secret}`, `ref+vault://a?k=${secret}%zz`]) {
    assert.throws(() => parseReference(input), (e: unknown) => e instanceof KeywayError && !e.message.includes(secret));
  }
});

const providerArb = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/);
const textArb = fc.string({ minLength: 1, maxLength: 30, unit: 'grapheme' }).filter((s) => !s.includes('\0') && s.isWellFormed());
const refArb: fc.Arbitrary<Reference> = fc
  .record({
    provider: providerArb,
    path: textArb,
    query: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), textArb, { maxKeys: 4 }),
    pointer: fc.option(fc.array(fc.string({ maxLength: 10 }).filter((s) => s.isWellFormed()), { minLength: 1, maxLength: 4 }), { nil: undefined }),
  })
  .map((r) => {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.query)) query[k] = v;
    return r.pointer === undefined ? { provider: r.provider, path: r.path, query } : { provider: r.provider, path: r.path, query, pointer: r.pointer };
  });

test('parse after format is the identity on valid references', () => {
  fc.assert(
    fc.property(refArb, (r) => {
      assert.deepEqual(parseReference(formatReference(r)), r);
    }),
    { numRuns: 2000 },
  );
});

test('format after parse is stable on canonical strings', () => {
  fc.assert(
    fc.property(refArb, (r) => {
      const s = formatReference(r);
      assert.equal(formatReference(parseReference(s)), s);
    }),
  );
});

test('the parser throws nothing but KeywayError on arbitrary strings', () => {
  const arb = fc.oneof(fc.string({ unit: 'binary' }), fc.string().map((s) => 'ref+' + s), fc.string().map((s) => 'ref+x://' + s));
  fc.assert(
    fc.property(arb, (s) => {
      try {
        parseReference(s);
      } catch (e) {
        assert.ok(e instanceof KeywayError, `threw ${String(e)}`);
        assert.equal(e.code, 'invalid_argument');
      }
    }),
    { numRuns: 5000 },
  );
});

test('a raw control character or space in the query or fragment is refused, naming the part', () => {
  for (const [input, part] of [
    ['ref+vault://a?k=a\u0001b', 'query'],
    ['ref+vault://a?k=a b', 'query'],
    ['ref+vault://a?k=a\u007fb', 'query'],
    ['ref+vault://a?k=1#/x\ty', 'fragment'],
  ] as const) {
    assert.throws(() => parseReference(input), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && e.message.includes(`${part} contains a control character or space`), JSON.stringify(input));
  }
});

test('references are capped at 8192 characters: the cap itself parses, one more is refused', () => {
  const at = (n: number): string => 'ref+vault://' + 'a'.repeat(n - 'ref+vault://'.length);
  assert.equal(parseReference(at(8192)).path.length, 8192 - 'ref+vault://'.length);
  assert.throws(() => parseReference(at(8193)), (e: unknown) => e instanceof KeywayError && e.message.includes('longer than 8192 characters'));
});

test('pointer escapes are decoded ~1 before ~0, as RFC 6901 requires: "~01" is "~1", not "/"', () => {
  assert.deepEqual(parseReference('ref+local://a#/~01').pointer, ['~1']);
  assert.deepEqual(parseReference('ref+local://a#/~10').pointer, ['/0']);
  assert.deepEqual(parseReference('ref+local://a#/~0~1').pointer, ['~/']);
});

test('any valid reference with a raw control character or space inserted into its path, query or fragment is refused', () => {
  const bad = fc.constantFrom('\u0000', '\u0001', '\n', '\t', ' ', '\u007f');
  fc.assert(
    fc.property(refArb, bad, fc.nat(), (r, c, at) => {
      const s = formatReference(r);
      const start = s.indexOf('://') + 3;
      const i = start + (at % (s.length - start));
      assert.throws(() => parseReference(s.slice(0, i) + c + s.slice(i)), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument');
    }),
    { numRuns: 2000 },
  );
});
