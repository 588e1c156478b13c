import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../src/core/errors.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { renderTemplate, type Fetch } from '../../src/templates/render.js';
import { parseTemplate } from '../../src/templates/syntax.js';

const MAX = 1024 * 1024;

/** A fetch over fixed values that records every SecretValue it hands out. */
function fixed(values: Record<string, string | Buffer>): { fetch: Fetch; handed: SecretValue[] } {
  const handed: SecretValue[] = [];
  return {
    handed,
    fetch: async (target) => {
      await Promise.resolve();
      const v = values[target];
      if (v === undefined) throw new KeywayError('not_found', `no secret named ${JSON.stringify(target)}`);
      const s = SecretValue.copyOf(Buffer.from(v));
      handed.push(s);
      return { value: s };
    },
  };
}

test('render substitutes each placeholder with its filtered value, byte for byte', async () => {
  const { fetch, handed } = fixed({ user: 'app', pw: 'p@ss "w"\n', 'ref+vault://kv/app#/key': Buffer.from([0xff, 0x00, 0x41]) });
  const tpl = parseTemplate('postgres://{{ user }}:{{ pw | trim | url }}@db/app\npw: {{ pw | json }}\nkey={{ ref+vault://kv/app#/key | base64 }}\n', 'app.tmpl');
  const out = await renderTemplate(tpl, fetch, MAX);
  assert.equal(out.expose().toString(), 'postgres://app:p%40ss%20%22w%22@db/app\npw: "p@ss \\"w\\"\\n"\nkey=/wBB\n');
  assert.equal(handed.length, 3, 'each distinct target is fetched once');
  assert.ok(handed.every((v) => v.zeroed), 'fetched values are wiped after rendering');
});

test('an unknown secret is not_found naming FILE:LINE:COL of its first use', async () => {
  const { fetch, handed } = fixed({ a: 'x' });
  const tpl = parseTemplate('{{ a }}\n  x={{ missing | json }} {{ missing }}', 'app.tmpl');
  await assert.rejects(renderTemplate(tpl, fetch, MAX), (e: unknown) => e instanceof KeywayError && e.code === 'not_found' && e.message.startsWith('app.tmpl:2:5: ') && e.message.includes('"missing"'));
  assert.ok(handed.every((v) => v.zeroed), 'what was fetched before the failure is wiped');
});

test('a value the filter cannot represent is invalid_argument at its placeholder and does not echo the value', async () => {
  const secret = Buffer.concat([Buffer.from('TOPSECRET'), Buffer.from([0xff])]);
  const { fetch } = fixed({ k: secret });
  const tpl = parseTemplate('a\nb: {{ k | trim | json }}', 'v.yaml.tmpl');
  await assert.rejects(renderTemplate(tpl, fetch, MAX), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && e.message.startsWith('v.yaml.tmpl:2:4: filter trim | json: ') && !e.message.includes('TOPSECRET'));
});

test('the rendered output may not exceed the size limit', async () => {
  const { fetch, handed } = fixed({ big: 'x'.repeat(600) });
  const tpl = parseTemplate('{{ big }}{{ big }}', 'f');
  assert.equal((await renderTemplate(tpl, fetch, 1200)).length, 1200);
  await assert.rejects(renderTemplate(tpl, fetch, 1199), (e: unknown) => e instanceof KeywayError && e.code === 'too_large');
  assert.ok(handed.every((v) => v.zeroed));
});

test('rendering never puts a secret value in an error message, whatever the template (fuzz)', async () => {
  const marker = 'Zq7SECRETzq7';
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom('{{ s }}', '{{ s | json }}', '{{ s|url}}', '{{ s | shell }}', '{{ s | trim | json }}', '{{ nope }}', '{{ s | bad }}', 'text', '\n', '{{', '}}', '|'), { maxLength: 12 }),
      fc.uint8Array({ maxLength: 8 }),
      async (parts, extra) => {
        const value = Buffer.concat([Buffer.from(marker), Buffer.from(extra)]);
        const { fetch } = fixed({ s: value });
        try {
          const out = await renderTemplate(parseTemplate(parts.join(''), 'fz'), fetch, MAX);
          out.zero();
        } catch (e) {
          assert.ok(e instanceof KeywayError, String(e));
          assert.ok(!e.message.includes(marker), e.message);
          assert.ok(!String((e.cause as Error | undefined)?.message ?? '').includes(marker));
        }
      },
    ),
    { numRuns: 500 },
  );
});
