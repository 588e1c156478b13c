import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { checkTemplateName, readTemplateIn, readTemplatePath } from '../../src/templates/files.js';
import { defaultTemplatesDir } from '../../src/templates/dir.js';

const HOST_SECRET = 'host file content the caller must not read';

/** A templates dir next to an outside "host" file, with symlinks of every kind inside. */
function layout(t: TestContext): { dir: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'keyway-tpl-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'templates');
  const outside = join(base, 'host-secret');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(outside, HOST_SECRET);
  mkdirSync(join(base, 'elsewhere'));
  writeFileSync(join(base, 'elsewhere', 'x.tmpl'), HOST_SECRET);
  writeFileSync(join(dir, 'app.conf.tmpl'), 'pw={{ db }}\n');
  writeFileSync(join(dir, 'sub', 'nested.tmpl'), 'n={{ db }}');
  symlinkSync(outside, join(dir, 'link-out.tmpl'));
  symlinkSync('app.conf.tmpl', join(dir, 'link-in.tmpl'));
  symlinkSync(join(base, 'elsewhere'), join(dir, 'dir-out'));
  symlinkSync('/etc', join(dir, 'etc'));
  execFileSync('mkfifo', [join(dir, 'fifo.tmpl')]);
  return { dir, outside };
}

function denied(fn: () => unknown, code: string, fragment: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof KeywayError && e.code === code && fragment.test(e.message) && !e.message.includes(HOST_SECRET));
}

test('a template in the dir or a subdir is read, also through a symlink that stays inside', (t) => {
  const { dir } = layout(t);
  assert.equal(readTemplateIn(dir, 'app.conf.tmpl', 1024).toString(), 'pw={{ db }}\n');
  assert.equal(readTemplateIn(dir, 'sub/nested.tmpl', 1024).toString(), 'n={{ db }}');
  assert.equal(readTemplateIn(dir, 'link-in.tmpl', 1024).toString(), 'pw={{ db }}\n');
});

test('absolute names, ".." and empty elements are refused before any file is touched', (t) => {
  const { dir, outside } = layout(t);
  denied(() => readTemplateIn(dir, outside, 1024), 'invalid_argument', /no leading "\/"/);
  denied(() => readTemplateIn(dir, '../host-secret', 1024), 'invalid_argument', /must not contain "\.\."/);
  denied(() => readTemplateIn(dir, 'sub/../../host-secret', 1024), 'invalid_argument', /"\.\."/);
  denied(() => readTemplateIn(dir, 'sub//nested.tmpl', 1024), 'invalid_argument', /empty or "\."/);
  denied(() => readTemplateIn(dir, './app.conf.tmpl', 1024), 'invalid_argument', /empty or "\."/);
  denied(() => readTemplateIn(dir, 'a\0b', 1024), 'invalid_argument', /NUL/);
  assert.equal(checkTemplateName('a/b.tmpl'), 'a/b.tmpl');
});

test('a symlink leading out of the templates dir is refused, as a file or as a directory on the way', (t) => {
  const { dir } = layout(t);
  denied(() => readTemplateIn(dir, 'link-out.tmpl', 1024), 'permission_denied', /symlink leading out of the templates dir/);
  denied(() => readTemplateIn(dir, 'dir-out/x.tmpl', 1024), 'permission_denied', /out of the templates dir/);
  denied(() => readTemplateIn(dir, 'etc/passwd', 1024 * 1024), 'permission_denied', /out of the templates dir/);
});

test('a missing template is not_found, a FIFO is refused without blocking, and size is capped', (t) => {
  const { dir } = layout(t);
  denied(() => readTemplateIn(dir, 'nope.tmpl', 1024), 'not_found', /does not exist/);
  denied(() => readTemplateIn(dir, 'fifo.tmpl', 1024), 'invalid_argument', /not a regular file/);
  denied(() => readTemplateIn(dir, 'app.conf.tmpl', 4), 'too_large', /max_secret_bytes/);
  denied(() => readTemplateIn(join(dir, 'missing'), 'app.conf.tmpl', 1024), 'not_found', /templates dir .* does not exist/);
  denied(() => readTemplatePath(join(dir, 'fifo.tmpl'), 1024), 'invalid_argument', /not a regular file/);
});

test('the default templates dir is /etc/keyway/templates for root and under XDG_CONFIG_HOME otherwise', () => {
  assert.equal(defaultTemplatesDir(true, {}), '/etc/keyway/templates');
  assert.equal(defaultTemplatesDir(false, { XDG_CONFIG_HOME: '/home/u/.cfg' }), '/home/u/.cfg/keyway/templates');
  assert.equal(defaultTemplatesDir(false, { HOME: '/home/u' }), '/home/u/.config/keyway/templates');
});
