import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import type { Provider, ProviderRequest } from '../../src/core/provider.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { lazyProvider, type LazyShape } from '../../src/core/lazy-provider.js';

const req: ProviderRequest = { path: 'p', options: {}, signal: new AbortController().signal };
const shape: LazyShape = { type: 'demo', name: 'demo', optionKeys: ['version'], ops: ['version'] };

function impl(over: Partial<Provider> = {}): Provider {
  return { type: 'demo', name: 'demo', optionKeys: ['version'], lookup: async () => SecretValue.fromString('v'), version: async () => 'v1', ...over };
}

test('a lazy provider answers its shape without loading, and loads once on the first operation', async () => {
  let opened = 0;
  const p = lazyProvider(shape, async () => {
    opened++;
    return impl();
  });
  assert.deepEqual([p.type, p.name, p.optionKeys, typeof p.version, p.store, p.lookupMany], ['demo', 'demo', ['version'], 'function', undefined, undefined]);
  assert.equal(opened, 0);
  assert.equal((await p.lookup(req)).expose().toString(), 'v');
  assert.equal(await p.version?.(req), 'v1');
  assert.equal(opened, 1);
});

test('a lazy provider whose implementation has other operations or query keys than declared refuses every operation as internal', async () => {
  for (const wrong of [impl({ version: undefined }), impl({ list: async () => [] }), impl({ optionKeys: ['version', 'field'] })]) {
    const p = lazyProvider(shape, async () => wrong);
    await assert.rejects(p.lookup(req), (e: unknown) => e instanceof KeywayError && e.code === 'internal' && /provider type demo declares operations \[version\]/.test(e.message));
  }
});

test("a constructor's refusal is the answer of every operation, and close after it does nothing", async () => {
  let opened = 0;
  const p = lazyProvider(shape, async () => {
    opened++;
    throw new KeywayError('failed_precondition', 'demo: no address');
  });
  await assert.rejects(p.lookup(req), /demo: no address/);
  await assert.rejects(p.version?.(req) ?? Promise.resolve(), /demo: no address/);
  await p.close?.();
  assert.equal(opened, 1);
});

test('close releases a loaded implementation and loads nothing when none was', async () => {
  let opened = 0;
  let closed = 0;
  const make = (): Provider =>
    lazyProvider(shape, async () => {
      opened++;
      return impl({ close: async () => void closed++ });
    });
  await make().close?.();
  assert.deepEqual([opened, closed], [0, 0]);
  const p = make();
  await p.lookup(req);
  await p.close?.();
  assert.deepEqual([opened, closed], [1, 1]);
});
