import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import { parseTemplateSpec, renderedName } from '../../src/templates/run-spec.js';

test('a --template spec is SRC with optional trailing target= and mode=, in any order', () => {
  assert.deepEqual(parseTemplateSpec('conf/app.conf.tmpl'), { src: 'conf/app.conf.tmpl', file: 'app.conf' });
  assert.deepEqual(parseTemplateSpec('app.tmpl,target=.env,mode=0440'), { src: 'app.tmpl', file: '.env', mode: 0o440 });
  assert.deepEqual(parseTemplateSpec('app.tmpl,mode=600,target=x'), { src: 'app.tmpl', file: 'x', mode: 0o600 });
  // Commas in the path stay in the path; only known trailing options are options.
  assert.deepEqual(parseTemplateSpec('a,b/c,uid=1.tmpl'), { src: 'a,b/c,uid=1.tmpl', file: 'c,uid=1' });
});

test('the default file name drops a .tmpl suffix only', () => {
  assert.equal(renderedName('/etc/app/nginx.conf.tmpl'), 'nginx.conf');
  assert.equal(renderedName('app.env'), 'app.env');
  assert.equal(renderedName('.tmpl'), '.tmpl');
});

for (const [spec, fragment] of [
  ['app.tmpl,mode=0400,mode=0440', /mode= given twice/],
  ['app.tmpl,mode=rw', /mode must be octal/],
  ['app.tmpl,target=a/b', /--template target .* must not contain "\/"/],
  [',target=x', /missing the template file/],
  ['dir/..', /cannot derive a file name .*add ,target=NAME/],
] as const) {
  test(`--template ${JSON.stringify(spec)} is refused naming the problem`, () => {
    assert.throws(() => parseTemplateSpec(spec), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && fragment.test(e.message));
  });
}
