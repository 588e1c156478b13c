import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { KeywayError } from '../../src/core/errors.js';
import { base64, json, prepareChain, runFilter, shell, trim, url, type FilterName } from '../../src/templates/filters.js';

const jsonFilter = (v: Buffer): Buffer => runFilter(json, v);
const base64Filter = (v: Buffer): Buffer => runFilter(base64, v);
const trimFilter = (v: Buffer): Buffer => runFilter(trim, v);
const shellFilter = (v: Buffer): Buffer => runFilter(shell, v);
const urlFilter = (v: Buffer): Buffer => runFilter(url, v);
function applyFilters(v: Buffer, filters: readonly FilterName[]): Buffer {
  const chain = prepareChain(v, filters);
  const out = chain.last ? runFilter(chain.last, chain.input) : Buffer.from(chain.input);
  for (const b of chain.scratch) b.fill(0);
  return out;
}
import { parseDocument } from 'yaml';

// Values an attacker (or an unlucky password generator) might produce.
const HOSTILE: Record<string, Buffer> = {
  quotes: Buffer.from(`it's "quoted" and 'single' '\\''`),
  backslashes: Buffer.from('C:\\path\\to\\\\share\\'),
  newlines: Buffer.from('line1\nline2\r\nline3\n'),
  nul: Buffer.from('a\0b\0'),
  command: Buffer.from('$(touch /tmp/pwned) `id` ${HOME} $HOME; rm -rf / && echo'),
  controls: Buffer.from([0x01, 0x08, 0x09, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f, 0x20]),
  unicode: Buffer.from('pässwörd ✓ 🔑 \u2028\u2029\u0085\ufeff\uffff'),
  glob: Buffer.from('* ? [a-z] ~ # ! % & < > |'),
  empty: Buffer.alloc(0),
};
const NOT_UTF8 = Buffer.from([0x66, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x00, 0x27]);

/** Decodes %XX sequences byte-wise (decodeURIComponent only handles UTF-8). */
function percentDecode(b: Buffer): Buffer {
  const s = b.toString('latin1');
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%') {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i));
  }
  return Buffer.from(out);
}

/** What `sh` makes of the word: the script `printf %s WORD` is fed on stdin as raw bytes. */
function shellRoundTrip(word: Buffer): Buffer {
  const r = spawnSync('sh', ['-s'], { input: Buffer.concat([Buffer.from('printf %s '), word, Buffer.from('\n')]) });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

for (const [label, value] of Object.entries(HOSTILE)) {
  if (label !== 'nul') {
    test(`json of a value with ${label} parses back to the same text and is a YAML scalar of it`, () => {
      const out = jsonFilter(value);
      assert.equal(JSON.parse(out.toString('utf8')), value.toString('utf8'));
      const doc = parseDocument(`key: ${out.toString('utf8')}\n`);
      assert.equal(doc.errors.length, 0, String(doc.errors[0]?.message));
      assert.equal(doc.get('key'), value.toString('utf8'));
      assert.ok(!out.subarray(1, -1).includes(0x0a) && !out.includes(0x00), 'no raw newline or NUL');
    });
    test(`shell quoting of a value with ${label} is one word that sh prints back unchanged`, () => {
      const out = shellFilter(value);
      assert.deepEqual(shellRoundTrip(out), value);
    });
  }
  test(`url encoding of a value with ${label} decodes back to the same bytes`, () => {
    const out = urlFilter(value);
    assert.match(out.toString('latin1'), /^[A-Za-z0-9\-._~%]*$/);
    assert.equal(decodeURIComponent(out.toString('latin1')), value.toString('utf8'));
  });
  test(`base64 of a value with ${label} decodes back to the same bytes`, () => {
    const out = base64Filter(value);
    assert.equal(out.toString('latin1'), value.toString('base64'));
    assert.deepEqual(Buffer.from(out.toString('latin1'), 'base64'), value);
  });
}

test('json of a value with a NUL byte escapes it and parses back', () => {
  const out = jsonFilter(HOSTILE.nul as Buffer);
  assert.equal(out.toString(), '"a\\u0000b\\u0000"');
  assert.equal(JSON.parse(out.toString()), 'a\0b\0');
});

test('json writes as \\u escapes the characters YAML does not allow raw, and JavaScript line ends', () => {
  const out = jsonFilter(Buffer.from('a\u007f\u0085\u009f\u2028\u2029\ufeff\ufffe\uffffb\u00a0é'));
  assert.equal(out.toString('utf8'), '"a\\u007f\\u0085\\u009f\\u2028\\u2029\\ufeff\\ufffe\\uffffb\u00a0é"');
});

test('shell refuses a NUL byte, which no shell word can hold', () => {
  assert.throws(() => shellFilter(HOSTILE.nul as Buffer), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && /NUL/.test(e.message));
});

test('json refuses bytes that are not UTF-8 instead of mangling them, and base64 carries them', () => {
  assert.throws(() => jsonFilter(NOT_UTF8), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && /not UTF-8/.test(e.message));
  assert.deepEqual(Buffer.from(base64Filter(NOT_UTF8).toString('latin1'), 'base64'), NOT_UTF8);
});

test('url and shell carry bytes that are not UTF-8 exactly', () => {
  assert.deepEqual(percentDecode(urlFilter(NOT_UTF8)), NOT_UTF8);
  const noNul = Buffer.from(NOT_UTF8.filter((b) => b !== 0));
  assert.deepEqual(shellRoundTrip(shellFilter(noNul)), noNul);
});

test('trim removes ASCII whitespace at both ends only', () => {
  assert.equal(trimFilter(Buffer.from(' \t\r\n pass word \n\n')).toString(), 'pass word');
  assert.equal(trimFilter(Buffer.from('\n\n')).length, 0);
  assert.deepEqual(trimFilter(NOT_UTF8), NOT_UTF8);
});

test('filters chain left to right and leave the input untouched', () => {
  const input = Buffer.from('  s3cret\n');
  const out = applyFilters(input, ['trim', 'base64', 'json']);
  assert.equal(out.toString(), JSON.stringify(Buffer.from('s3cret').toString('base64')));
  assert.equal(input.toString(), '  s3cret\n');
  const copy = applyFilters(input, []);
  assert.deepEqual(copy, input);
  copy.fill(0);
  assert.equal(input.toString(), '  s3cret\n');
});

test('every filter round-trips arbitrary values (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const v = Buffer.from(bytes);
      assert.deepEqual(Buffer.from(base64Filter(v).toString('latin1'), 'base64'), v);
      assert.deepEqual(percentDecode(urlFilter(v)), v);
      const text = v.toString('utf8');
      if (Buffer.from(text, 'utf8').equals(v)) assert.equal(JSON.parse(jsonFilter(v).toString('utf8')), text);
      else assert.throws(() => jsonFilter(v), KeywayError);
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (s) => {
      const v = Buffer.from(s.replace(/\0/g, ''), 'utf8');
      assert.deepEqual(shellRoundTrip(shellFilter(v)), v);
    }),
    { numRuns: 40 },
  );
});
