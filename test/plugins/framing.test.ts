import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { KeywayError } from '../../src/core/errors.js';
import { FrameReader, encodeHeader, MAX_HEADER_BYTES } from '../../src/plugins/framing.js';

function frame(header: Record<string, unknown>, payload = Buffer.alloc(0)): Buffer {
  return Buffer.concat([encodeHeader({ ...header, size: payload.length }), payload]);
}

test('frames round-trip whatever the chunking', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string(), fc.uint8Array({ maxLength: 300 })), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (items, cuts) => {
      const wire = Buffer.concat(items.map(([s, p]) => frame({ id: s }, Buffer.from(p))));
      const r = new FrameReader({ maxPayloadBytes: 1024 });
      const out = [];
      let off = 0;
      let i = 0;
      while (off < wire.length) {
        const n = cuts[i++ % cuts.length] ?? 1;
        out.push(...r.push(Buffer.from(wire.subarray(off, off + n)), true));
        off += n;
      }
      assert.equal(out.length, items.length);
      out.forEach((f, k) => {
        assert.equal(f.header.id, items[k]?.[0]);
        assert.deepEqual([...f.payload], [...(items[k]?.[1] ?? [])]);
      });
      assert.equal(r.midFrame, false);
    }),
  );
});

test('the reader never throws anything but KeywayError on arbitrary bytes', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string().map((s) => Buffer.from(s))), { maxLength: 10 }), (chunks) => {
      const r = new FrameReader({ maxPayloadBytes: 64, maxHeaderBytes: 128 });
      for (const c of chunks) {
        try {
          r.push(c);
        } catch (e) {
          assert.ok(e instanceof KeywayError, String(e));
          return;
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('a header over the limit is refused as too_large before its newline arrives', () => {
  const r = new FrameReader({ maxPayloadBytes: 10 });
  assert.throws(() => r.push(Buffer.alloc(MAX_HEADER_BYTES + 1, 0x41)), (e: unknown) => e instanceof KeywayError && e.code === 'too_large');
  assert.throws(() => r.push(Buffer.from('{}\n')), (e: unknown) => e instanceof KeywayError && e.code === 'too_large');
});

test('a size above the payload cap, a negative size and non-object headers are refused', () => {
  for (const line of ['{"size":11}\n', '{"size":-1}\n', '{"size":1.5}\n', '[1]\n', 'null\n', 'garbage\n', '\n']) {
    const r = new FrameReader({ maxPayloadBytes: 10 });
    assert.throws(() => r.push(Buffer.from(line)), (e: unknown) => e instanceof KeywayError && (e.code === 'too_large' || e.code === 'invalid_argument'), line);
  }
});

test('a partial frame is reported as mid-frame', () => {
  const r = new FrameReader({ maxPayloadBytes: 10 });
  assert.deepEqual(r.push(Buffer.from('{"size":4}\nab')), []);
  assert.equal(r.midFrame, true);
  const [f] = r.push(Buffer.from('cd'));
  assert.equal(f?.payload.toString(), 'abcd');
  assert.equal(r.midFrame, false);
});

test('encodeHeader refuses a header over 64 KiB', () => {
  assert.throws(() => encodeHeader({ x: 'a'.repeat(MAX_HEADER_BYTES) }), (e: unknown) => e instanceof KeywayError && e.code === 'too_large');
});
