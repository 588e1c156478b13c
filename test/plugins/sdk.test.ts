import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { PluginError, runPlugin, type Plugin } from '../../packages/plugin-sdk/src/index.js';
import { FrameReader, encodeHeader } from '../../src/plugins/framing.js';

const plugin: Plugin = {
  name: 't',
  optionKeys: ['upper'],
  async lookup({ path, options }) {
    if (path === 'slow') await new Promise((r) => setTimeout(r, 30));
    if (path === 'missing') throw new PluginError('not_found', `no secret at ${path}`);
    if (path === 'boom') throw new Error('leaky detail hunter2');
    return Buffer.from(options.upper === 'true' ? path.toUpperCase() : path);
  },
  store: () => undefined,
};

async function exchange(frames: Buffer[]): Promise<{ header: Record<string, unknown>; payload: string }[]> {
  const input = new PassThrough();
  const output = new PassThrough();
  const reader = new FrameReader({ maxPayloadBytes: 1024 });
  const got: { header: Record<string, unknown>; payload: string }[] = [];
  output.on('data', (c: Buffer) => got.push(...reader.push(c).map((f) => ({ header: f.header, payload: f.payload.toString() }))));
  const done = runPlugin(plugin, { input, output });
  for (const f of frames) input.write(f);
  input.end();
  await done;
  return got;
}

test('the SDK answers describe, lookups (concurrently, out of order) and errors with stable codes', async () => {
  const req = (id: string, op: string, path?: string, options?: Record<string, string>): Buffer => encodeHeader({ v: 1, id, op, ...(path ? { path } : {}), ...(options ? { options } : {}), size: 0 });
  const got = await exchange([req('1', 'describe'), req('2', 'lookup', 'slow'), req('3', 'lookup', 'abc', { upper: 'true' }), req('4', 'lookup', 'missing'), req('5', 'lookup', 'boom'), req('6', 'nope'), req('7', 'list')]);
  const byId = new Map(got.map((g) => [g.header.id, g]));
  assert.deepEqual(byId.get('1')?.header.ops, ['describe', 'lookup', 'store']);
  assert.deepEqual(byId.get('1')?.header.option_keys, ['upper']);
  assert.equal(byId.get('2')?.payload, 'slow');
  assert.equal(byId.get('3')?.payload, 'ABC');
  assert.ok(got.findIndex((g) => g.header.id === '3') < got.findIndex((g) => g.header.id === '2'), 'a fast answer overtakes a slow one');
  assert.deepEqual(byId.get('4')?.header.error, { code: 'not_found', message: 'no secret at missing' });
  assert.deepEqual(byId.get('5')?.header.error, { code: 'internal', message: 'internal error in plugin' }, 'unexpected errors do not leak their message');
  assert.equal((byId.get('6')?.header.error as { code: string }).code, 'unsupported');
  assert.equal((byId.get('7')?.header.error as { code: string }).code, 'unsupported');
});

test('the SDK hands a store payload through byte for byte', async () => {
  let seen = '';
  const p: Plugin = { ...plugin, store: (_r, v) => void (seen = v.toString('hex')) };
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume();
  const done = runPlugin(p, { input, output });
  const value = Buffer.from([0, 10, 255, 13, 10]);
  input.end(Buffer.concat([encodeHeader({ v: 1, id: '1', op: 'store', path: 'k', size: value.length }), value]));
  await done;
  assert.equal(seen, '000aff0d0a');
});
