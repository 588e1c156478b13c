// Generations of a mount set's payload dirs, with the swap's clock given explicitly: a replaced
// version stays while an open may still be resolving it, and is zeroed on removal only once it has
// been superseded for a while (a reader may sit between its open and its read during rapid rotations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretValue } from '../../src/core/secret-value.js';
import { createSetDir, destroySetDir, KEEP_MS, publish, ZERO_AFTER_MS } from '../../src/delivery/atomic-writer.js';

const uid = process.geteuid?.() ?? 0;
const gid = process.getegid?.() ?? 0;
const owner = { mode: 0o700, uid, gid };
const file = (text: string) => [{ name: 'a', bytes: SecretValue.adopt(Buffer.from(text)), mode: 0o600, uid, gid }];

function readAt(fd: number): string {
  const buf = Buffer.alloc(9);
  readSync(fd, buf, 0, 9, 0);
  return buf.toString('latin1');
}

test('a replaced version stays while opens may be under way, then is unlinked, or zeroed once superseded long enough', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'keyway-atomic-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'set');
  createSetDir(dir, owner);
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
  const at = (ms: number): Date => new Date(t0 + ms);
  const payloads = (): string[] => readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data');
  const current = (): string => readlinkSync(join(dir, '..data'));

  await publish(dir, file('version-1'), owner, undefined, at(0));
  const v1 = current();
  const held1 = openSync(join(dir, 'a'), 'r');
  t.after(() => closeSync(held1));
  await publish(dir, file('version-2'), owner, undefined, at(1_000));
  const v2 = current();
  assert.deepEqual(payloads(), [v1, v2], 'the replaced version stays until the next swap at least');

  // Version 1 was superseded (at 1 s) less than KEEP_MS before this swap: still reachable.
  await publish(dir, file('version-3'), owner, undefined, at(1_000 + KEEP_MS - 1));
  const v3 = current();
  assert.deepEqual(payloads(), [v1, v2, v3]);
  const held3 = openSync(join(dir, 'a'), 'r');
  t.after(() => closeSync(held3));

  // Now versions 1 and 2 were superseded KEEP_MS ago or more, but less than ZERO_AFTER_MS:
  // removed, and a descriptor still held reads whole bytes.
  const t4 = 1_000 + KEEP_MS * 2;
  await publish(dir, file('version-4'), owner, undefined, at(t4));
  const v4 = current();
  assert.deepEqual(payloads(), [v3, v4]);
  assert.equal(readAt(held1), 'version-1');

  // Version 3, superseded at t4, is removed long after: overwritten with zeros first.
  await publish(dir, file('version-5'), owner, undefined, at(t4 + ZERO_AFTER_MS));
  assert.deepEqual(payloads(), [v4, current()]);
  assert.equal(readAt(held3), '\0'.repeat(9));
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'version-5');

  // Release zeroes every version left, whatever its age.
  const held5 = openSync(join(dir, 'a'), 'r');
  t.after(() => closeSync(held5));
  destroySetDir(dir);
  assert.equal(readAt(held5), '\0'.repeat(9));
});

test('concurrent publishes of one set apply one at a time, in the order they were called', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'keyway-atomic-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'set');
  createSetDir(dir, owner);
  await publish(dir, file('v0'), owner);
  // Labelling yields between writing a payload and swapping it in; the later a publish is called,
  // the faster its labelling, so unserialised publishes would swap in reverse order.
  const label = (ms: number) => (): Promise<void> => new Promise((r) => setTimeout(r, ms));
  await Promise.all([1, 2, 3, 4, 5].map((i) => publish(dir, file(`v${i}`), owner, label((6 - i) * 10))));
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'v5');
  // Every version kept is whole (none swapped in half-written or removed under a swap).
  for (const p of readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data')) assert.match(readFileSync(join(dir, p, 'a'), 'utf8'), /^v[0-5]$/);
  destroySetDir(dir);
});

test('versions published within the same millisecond still sort in publish order, so old ones are removed on time', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'keyway-atomic-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
  // Names end in a random suffix; twenty sets make a lucky ordering vanishingly unlikely.
  for (let i = 0; i < 20; i++) {
    const dir = join(base, `set${i}`);
    createSetDir(dir, owner);
    for (const v of ['v1', 'v2', 'v3']) await publish(dir, file(v), owner, undefined, new Date(t0));
    const before = readlinkSync(join(dir, '..data'));
    await publish(dir, file('v4'), owner, undefined, new Date(t0 + KEEP_MS + 10));
    const left = readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data');
    assert.deepEqual(left, [before, readlinkSync(join(dir, '..data'))], `set ${i}: only the replaced and the current version stay`);
    destroySetDir(dir);
  }
});
