// CSI objects of the form `template: FILE`: rendered from the templates dir through the same
// directory rule as Docker volumes, checked against [csi.access] as `template=FILE`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { parseObjects } from '../../../src/frontends/csi/objects.js';
import { dirSource } from '../../../src/templates/dir.js';
import { TemplatingResolver } from '../../../src/templates/resolver.js';
import { KeywayError } from '../../../src/core/errors.js';
import { CLI, testInstance } from '../../helpers/cli.js';
import { attributes, dial, grpcError, MemoryResolver, startHarness } from './harness.js';

const HOST_SECRET = 'HOST-FILE-NOT-FOR-PODS';

function templates(t: { after: (fn: () => void) => void }): string {
  const base = mkdtempSync(join(tmpdir(), 'kw-csi-tpl-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'templates');
  mkdirSync(dir);
  writeFileSync(join(dir, 'db.env.tmpl'), 'DATABASE_URL=postgres://{{ db-user }}:{{ db-password | url }}@db/shop\n');
  writeFileSync(join(base, 'host-secret'), HOST_SECRET);
  symlinkSync(join(base, 'host-secret'), join(dir, 'evil.tmpl'));
  return dir;
}

test('an objects entry takes exactly one of ref, secret or template, and template names obey the directory rule', () => {
  assert.deepEqual(parseObjects('- {objectName: db.env, template: db.env.tmpl, mode: "0440"}'), [{ objectName: 'db.env', target: 'template=db.env.tmpl', mode: 0o440 }]);
  const refused = (objects: string, fragment: RegExp): void => assert.throws(() => parseObjects(objects), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && fragment.test(e.message));
  refused('- {objectName: a, template: ../host-secret}', /objects\[0\]\.template .*must not contain "\.\."/);
  refused('- {objectName: a, template: /etc/passwd}', /no leading "\/"/);
  refused('- {objectName: a, template: a.tmpl, secret: b}', /exactly one of ref or secret \(or a template instead\)/);
  refused('- {objectName: a, template: 7}', /objects\[0\]\.template must be a file name/);
});

test('a CSI Mount renders a template object next to plain ones, and a symlink out of the dir fails the mount', async (t) => {
  const r = new MemoryResolver();
  r.set('db-user', 'shop');
  r.set('db-password', 'p@ss/w rd');
  const resolver = new TemplatingResolver({ inner: r, source: dirSource(templates(t), 1 << 20), maxBytes: 1 << 20 });
  const h = await startHarness(t, resolver);
  const res = await h.client.mount({ attributes: attributes('- {objectName: db.env, template: db.env.tmpl, mode: "0440"}\n- {objectName: user, secret: db-user}') });
  assert.deepEqual(
    res.files.map((f) => [f.path, f.mode, f.contents.toString()]),
    [
      ['db.env', 0o440, 'DATABASE_URL=postgres://shop:p%40ss%2Fw%20rd@db/shop\n'],
      ['user', 0o644, 'shop'],
    ],
  );
  await assert.rejects(h.client.mount({ attributes: attributes('- {objectName: x, template: evil.tmpl}') }), (e: unknown) => {
    const g = grpcError(e);
    return g.code === status.PERMISSION_DENIED && /symlink leading out of the templates dir/.test(g.details) && !g.details.includes(HOST_SECRET);
  });
  await assert.rejects(h.client.mount({ attributes: attributes('- {objectName: x, template: missing.tmpl}') }), (e: unknown) => grpcError(e).code === status.NOT_FOUND);
  assert.ok(!h.logs().includes(HOST_SECRET) && !h.logs().includes('p@ss'));
});

test('the CSI access policy sees a template object as template=FILE', async (t) => {
  const r = new MemoryResolver();
  r.set('db-user', 'shop');
  r.set('db-password', 'pw');
  const resolver = new TemplatingResolver({ inner: r, source: dirSource(templates(t), 1 << 20), maxBytes: 1 << 20 });
  const h = await startHarness(t, resolver, { access: { shop: ['template=db.*'], other: ['db-user'] } });
  const res = await h.client.mount({ attributes: attributes('- {objectName: db.env, template: db.env.tmpl}') });
  assert.equal(res.files.length, 1);
  await assert.rejects(h.client.mount({ attributes: attributes('- {objectName: db.env, template: db.env.tmpl}', { 'csi.storage.k8s.io/pod.namespace': 'other' }) }), (e: unknown) => grpcError(e).code === status.PERMISSION_DENIED);
});

test('keyway serve (built) renders CSI template objects from templates.dir', async (t) => {
  const i = testInstance(t, 'keyway-csi-tpl-');
  const dir = templates(t);
  const socket = join(i.dir, 'providers', 'keyway.sock');
  i.writeConfig(`[docker]\nenabled = false\n[csi]\nenabled = true\nsocket = "${socket}"\n[templates]\ndir = "${dir}"\n`);
  assert.equal(i.run(['secret', 'create', 'db-user', '-'], { input: 'shop' }).status, 0);
  assert.equal(i.run(['secret', 'create', 'db-password', '-'], { input: 'pw' }).status, 0);
  const child = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const end = Date.now() + 15_000;
  while (!existsSync(socket) && child.exitCode === null && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  const client = dial(socket);
  t.after(() => client.close());
  const res = await client.mount({ attributes: attributes('- {objectName: db.env, template: db.env.tmpl}') });
  assert.deepEqual(res.files.map((f) => [f.path, f.contents.toString()]), [['db.env', 'DATABASE_URL=postgres://shop:pw@db/shop\n']]);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
});
