// The values a CSI Mount resolves are intermediate copies: once the response is encoded (or the
// mount fails) each one is zeroed, whatever happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveEach } from '../../../src/core/all-or-nothing.js';
import { KeywayError } from '../../../src/core/errors.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import type { Resolved, Resolver } from '../../../src/broker/types.js';
import { handleMount } from '../../../src/frontends/csi/mount.js';

function recordingResolver(fail?: string): { resolver: Resolver; handed: SecretValue[] } {
  const handed: SecretValue[] = [];
  const resolver: Resolver = {
    async resolve(target): Promise<Resolved> {
      if (target === fail) throw new KeywayError('not_found', `no secret named "${target}"`);
      const value = SecretValue.fromString(`value-of-${target}`);
      handed.push(value);
      return { value, source: target, provider: 'test' };
    },
    async version() {
      return 'v';
    },
    resolveMany(targets, ctx, opts) {
      return resolveEach(targets, (t, signal) => resolver.resolve(t, { ...ctx, signal }), ctx.signal, opts);
    },
  };
  return { resolver, handed };
}

const request = (objects: string) => ({ attributes: JSON.stringify({ objects }), secrets: '{}', target_path: '/tmp/x', permission: '420', current_object_version: [] });

void test('every resolved value is zeroed after a successful mount, and the response still carries the bytes', async () => {
  const { resolver, handed } = recordingResolver();
  const out = await handleMount(request('- {objectName: a, secret: s1}\n- {objectName: b, secret: s2}'), { resolver, versionKey: () => Buffer.alloc(32, 1) }, AbortSignal.timeout(5000));
  assert.equal(handed.length, 2);
  assert.ok(handed.every((v) => v.zeroed), 'each resolved value was zeroed');
  assert.ok(out.encoded.includes(Buffer.from('value-of-s1')) && out.encoded.includes(Buffer.from('value-of-s2')));
});

void test('resolved values are zeroed when another object fails or the response is too large', async () => {
  const failing = recordingResolver('s2');
  await assert.rejects(handleMount(request('- {objectName: a, secret: s1}\n- {objectName: b, secret: s2}'), { resolver: failing.resolver, versionKey: () => Buffer.alloc(32, 1) }, AbortSignal.timeout(5000)), /object "b"/);
  assert.ok(failing.handed.length >= 1 && failing.handed.every((v) => v.zeroed));
  const big = recordingResolver();
  await assert.rejects(handleMount(request('- {objectName: a, secret: s1}'), { resolver: big.resolver, versionKey: () => Buffer.alloc(32, 1), maxResponseBytes: 8 }, AbortSignal.timeout(5000)), (e: unknown) => e instanceof KeywayError && e.code === 'too_large');
  assert.ok(big.handed.length === 1 && big.handed.every((v) => v.zeroed));
});
