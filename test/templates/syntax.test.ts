import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../src/core/errors.js';
import { MAX_PLACEHOLDERS, parseTemplate, type Segment } from '../../src/templates/syntax.js';

/** Segments in a compact form: literal text, or [target, ...filters]. */
function shape(text: string): (string | string[])[] {
  return parseTemplate(text, 't.tmpl').segments.map((s: Segment) => (s.kind === 'text' ? s.bytes.toString('utf8') : [s.target, ...s.filters]));
}

function refused(text: string, where: string, fragment: RegExp): void {
  assert.throws(
    () => parseTemplate(text, 'app.conf.tmpl'),
    (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && e.message.startsWith(`app.conf.tmpl:${where}: `) && fragment.test(e.message),
  );
}

test('a placeholder holds a name or a reference, with or without spaces, and filters', () => {
  assert.deepEqual(shape('user={{db}} pass={{ ref+vault://kv/app#/password | trim | url }}\n'), [
    'user=',
    ['db'],
    ' pass=',
    ['ref+vault://kv/app#/password', 'trim', 'url'],
    '\n',
  ]);
  assert.deepEqual(shape('{{\tdb\t|json}}{{db|base64|shell}}'), [['db', 'json'], ['db', 'base64', 'shell']]);
});

test('targets lists each distinct NAME or REF once, in order of first use', () => {
  const t = parseTemplate('{{ b }} {{ a | json }} {{ b | url }} {{ ref+local://x }}', 'f');
  assert.deepEqual(t.targets, ['b', 'a', 'ref+local://x']);
});

test('a backslash before {{ writes a literal {{, and two backslashes write one before a placeholder', () => {
  assert.deepEqual(shape('a \\{{ db }} b'), ['a {{ db }} b']);
  assert.deepEqual(shape('C:\\\\{{ dir }}'), ['C:\\', ['dir']]);
  assert.deepEqual(shape('back\\slash \\n stays'), ['back\\slash \\n stays']);
});

test('in a run of braces the last two open the placeholder, and }} closes at its first occurrence', () => {
  assert.deepEqual(shape('{"p":{{ db | json }}}'), ['{"p":', ['db', 'json'], '}']);
  assert.deepEqual(shape('{{{{ db }}}}'), ['{{', ['db'], '}}']);
});

test('text without placeholders, including single braces, is kept byte for byte', () => {
  const text = 'server { listen 443; } } { é ✓\r\n';
  assert.deepEqual(shape(text), [text]);
  assert.deepEqual(parseTemplate(Buffer.from(text), 'f').segments.length, 1);
});

test('syntax errors name FILE:LINE:COL of the problem', () => {
  refused('ok\n  {{ }}', '2:3', /empty placeholder/);
  refused('a {{ db', '1:3', /not closed by "}}" on the same line/);
  refused('a {{ db\n}}', '1:3', /not closed/);
  refused('x\ny {{ db | yaml }}', '2:11', /unknown filter "yaml" \(filters: json, base64, trim, shell, url\)/);
  refused('{{ db | }}', '1:9', /expected a filter name/);
  refused('{{ | json }}', '1:4', /missing a secret name or a reference/);
  refused('{{ db json }}', '1:7', /unexpected "j"/);
  refused('{{ ref+Vault://x }}', '1:4', /provider name "Vault" is invalid/);
  refused('{{ a=b }}', '1:4', /contains "="/);
  refused('{{ template=x }}', '1:4', /contains "="/);
  refused('{{ env.HOME }} {{ if x }}', '1:22', /unexpected "x"/);
});

test('a template that is not UTF-8 is refused', () => {
  assert.throws(() => parseTemplate(Buffer.from([0x7b, 0xff]), 'bin.tmpl'), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && /bin\.tmpl: .*not UTF-8/.test(e.message));
});

test('at most MAX_PLACEHOLDERS placeholders are accepted', () => {
  parseTemplate('{{a}}'.repeat(MAX_PLACEHOLDERS), 'f');
  assert.throws(() => parseTemplate('{{a}}'.repeat(MAX_PLACEHOLDERS + 1), 'f'), /more than 1000 placeholders/);
});

test('the digest changes with the template text', () => {
  assert.notEqual(parseTemplate('{{a}}', 'f').digest, parseTemplate('{{a}} ', 'f').digest);
});

const NAME = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,20}$/);
const FILTER = fc.constantFrom('json', 'base64', 'trim', 'shell', 'url');
const LITERAL = fc.string({ maxLength: 30 }).filter((s) => !s.includes('{{') && !s.includes('\\') && !s.endsWith('{'));
const REF = fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), fc.stringMatching(/^[a-zA-Z0-9_/-]{1,20}$/)).map(([p, path]) => `ref+${p}://${path}`);

test('generated valid templates parse to exactly the segments they were built from (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(LITERAL, fc.record({ target: fc.oneof(NAME, REF), filters: fc.array(FILTER, { maxLength: 3 }), pad: fc.constantFrom('', ' ', '  ', '\t') })), { maxLength: 12 }),
      (parts) => {
        // Merge adjacent literals the way the parser would, and build the text.
        const expected: (string | string[])[] = [];
        let text = '';
        for (const p of parts) {
          if (typeof p === 'string') {
            text += p;
            if (p.length === 0) continue;
            const last = expected.at(-1);
            if (typeof last === 'string') expected[expected.length - 1] = last + p;
            else expected.push(p);
          } else {
            text += `{{${p.pad}${p.target}${p.filters.map((f) => `${p.pad}|${p.pad}${f}`).join('')}${p.pad}}}`;
            expected.push([p.target, ...p.filters]);
          }
        }
        assert.deepEqual(shape(text), expected);
      },
    ),
    { numRuns: 500 },
  );
});

test('the parser is total on arbitrary text: a Template or a located invalid_argument (fuzz)', () => {
  const brace = fc.constantFrom('{{', '}}', '{', '}', '|', '\\', ' ', '\n', 'db', 'ref+', 'ref+v://a', 'json', '#', '=', '\0', 'é');
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.array(brace, { maxLength: 40 }).map((a) => a.join(''))), (text) => {
      try {
        const t = parseTemplate(text, 'fuzz.tmpl');
        // Whatever parsed reassembles into placeholders only where "{{" was written.
        for (const s of t.segments) if (s.kind === 'placeholder') assert.ok(s.line >= 1 && s.col >= 1);
      } catch (e) {
        assert.ok(e instanceof KeywayError, `not a KeywayError: ${String(e)}`);
        assert.ok(['invalid_argument'].includes(e.code), e.code);
        assert.match(e.message, /^fuzz\.tmpl(:\d+:\d+)?: /);
      }
    }),
    { numRuns: 3000 },
  );
});

test('a long text with many backslashes and braces parses in linear time', () => {
  const text = '\\x{'.repeat(200_000) + '{{ db }}';
  assert.equal(parseTemplate(text, 'f').targets.length, 1);
});
