import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { ensureMountRoot } from '../../src/delivery/mount-root.js';
import { MountSetManager } from '../../src/delivery/mount-sets.js';
import { Refresher } from '../../src/delivery/refresher.js';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { dirSource } from '../../src/templates/dir.js';
import { TemplatingResolver, templateTarget } from '../../src/templates/resolver.js';
import { parseTemplate } from '../../src/templates/syntax.js';
import { FixedResolver } from '../delivery/fixed-resolver.js';
import { ROOT_SKIP, sandbox } from '../delivery/helpers.js';

const ctx = { identity: { frontend: 'test' }, signal: new AbortController().signal };

function setup(text: string): { inner: FixedResolver; r: TemplatingResolver; setText: (t: string) => void } {
  const inner = new FixedResolver();
  let current = text;
  const r = new TemplatingResolver({ inner, maxBytes: 1 << 20, source: (name) => parseTemplate(current, name) });
  return { inner, r, setText: (t) => (current = t) };
}

test('a template= target resolves to the rendered template, other targets pass through', async () => {
  const { inner, r } = setup('url=postgres://app:{{ pw | url }}@db\n');
  inner.set('pw', 'a b/c', 'v1');
  const out = await r.resolve(templateTarget('db.tmpl'), ctx);
  assert.equal(out.value.expose().toString(), 'url=postgres://app:a%20b%2Fc@db\n');
  assert.equal(out.source, 'template:db.tmpl');
  const plain = await r.resolve('pw', ctx);
  assert.equal(plain.value.expose().toString(), 'a b/c');
  assert.equal(await r.version('pw', ctx), 'v1');
});

test('the version of a template changes when a referenced value or the template changes, and only then', async () => {
  const { inner, r, setText } = setup('{{ a }} {{ b }}');
  inner.set('a', '1', 'a1');
  inner.set('b', '2', 'b1');
  const target = templateTarget('x.tmpl');
  const v1 = await r.version(target, ctx);
  assert.equal(await r.version(target, ctx), v1);
  inner.set('b', '3', 'b2');
  const v2 = await r.version(target, ctx);
  assert.notEqual(v2, v1);
  setText('{{ a }}-{{ b }}');
  assert.notEqual(await r.version(target, ctx), v2);
});

test('an unknown secret in a template fails the resolve with not_found at FILE:LINE:COL', async () => {
  const { r } = setup('ok\n{{ nope }}');
  await assert.rejects(r.resolve(templateTarget('a.tmpl'), ctx), (e: unknown) => e instanceof KeywayError && e.code === 'not_found' && e.message.startsWith('a.tmpl:2:1: '));
});

test('templates from a dir are read afresh, so an edited template is rendered on the next resolve', async (t) => {
  const sb = sandbox(t);
  mkdirSync(sb.base + '/tpl');
  writeFileSync(join(sb.base, 'tpl', 'app.conf.tmpl'), 'v={{ a }}');
  const inner = new FixedResolver();
  inner.set('a', 'A', '1');
  const r = new TemplatingResolver({ inner, maxBytes: 1024, source: dirSource(join(sb.base, 'tpl'), 1024) });
  assert.equal((await r.resolve('template=app.conf.tmpl', ctx)).value.expose().toString(), 'v=A');
  writeFileSync(join(sb.base, 'tpl', 'app.conf.tmpl'), 'w={{ a | json }}');
  assert.equal((await r.resolve('template=app.conf.tmpl', ctx)).value.expose().toString(), 'w="A"');
});

const HALF = 2048;
const ROTATIONS = 200;
const READERS = 4;

void test('200 value changes under 4 readers: each re-render is swapped in whole, never partial or mixed', { skip: ROOT_SKIP, timeout: 120_000 }, async (t) => {
  const sb = sandbox(t);
  const root = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  const db = openDb(sb.stateDir);
  const mgr = new MountSetManager({ root, repo: new MountSetsRepo(db), logger: silentLogger() });
  // Both halves hold the same byte in each version, so a render mixing two versions shows two bytes.
  const inner = new FixedResolver();
  const setVersion = (i: number): void => {
    inner.set('a', Buffer.alloc(HALF, (i % 255) + 1), `a${i}`);
    inner.set('b', Buffer.alloc(HALF, (i % 255) + 1), `b${i}`);
  };
  setVersion(0);
  const resolver = new TemplatingResolver({ inner, maxBytes: 1 << 20, source: (name) => parseTemplate('{{ a }}{{ b }}', name) });
  const target = templateTarget('stress.tmpl');
  const first = await resolver.resolve(target, ctx);
  const set = await mgr.create('template-stress', [{ name: 'stress', bytes: first.value }]);
  first.value.zero();
  const refresher = new Refresher({ resolver, logger: silentLogger() });
  const watch = refresher.watch(set, [{ name: 'stress', target, version: await resolver.version(target, ctx) }], { intervalMs: 3_600_000, identity: ctx.identity });
  const readers: ChildProcess[] = [];
  t.after(async () => {
    readers.forEach((r) => r.kill('SIGKILL'));
    await refresher.stopAll();
    set.release();
    db.close();
  });

  const stop = join(sb.base, 'stop');
  const readerScript = join(import.meta.dirname, '..', 'delivery', 'fixtures', 'reader.mjs');
  for (let i = 0; i < READERS; i++) readers.push(spawn(process.execPath, [readerScript, join(set.dir, 'stress'), stop, join(sb.base, `r${i}.json`), String(2 * HALF)], { stdio: 'inherit' }));
  const deadline = Date.now() + 30_000;
  while (![...Array(READERS).keys()].every((i) => existsSync(join(sb.base, `r${i}.json.ready`)))) {
    assert.ok(Date.now() < deadline, 'readers did not start');
    await new Promise((r) => setTimeout(r, 10));
  }

  for (let i = 1; i <= ROTATIONS; i++) {
    setVersion(i);
    assert.deepEqual(await watch.refresh(), ['stress'], `change ${i} re-rendered the file`);
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  writeFileSync(stop, '');
  await Promise.all(readers.map(async (r) => (r.exitCode === null ? once(r, 'exit') : undefined)));
  for (let i = 0; i < READERS; i++) {
    const res = JSON.parse(readFileSync(join(sb.base, `r${i}.json`), 'utf8')) as { reads: number; bad: number; distinct: number; firstBad: unknown };
    assert.equal(res.bad, 0, `reader ${i} saw a partial or mixed render: ${JSON.stringify(res.firstBad)}`);
    assert.ok(res.distinct > 1, `reader ${i} observed re-renders`);
  }
  assert.deepEqual(readFileSync(join(set.dir, 'stress')), Buffer.alloc(2 * HALF, (ROTATIONS % 255) + 1));
});
