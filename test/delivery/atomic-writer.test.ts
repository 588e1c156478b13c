// Generations of a mount set's payload dirs, with the swap's clock given explicitly: the version a
// swap replaces stays for one more swap, and an older one is zeroed on removal only once it has been
// superseded for a while (a reader may sit between its open and its read during rapid rotations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretValue } from '../../src/core/secret-value.js';
import { createSetDir, destroySetDir, publish, ZERO_AFTER_MS } from '../../src/delivery/atomic-writer.js';

const uid = process.geteuid?.() ?? 0;
const gid = process.getegid?.() ?? 0;
const owner = { mode: 0o700, uid, gid };
const file = (text: string) => [{ name: 'a', bytes: SecretValue.adopt(Buffer.from(text)), mode: 0o600, uid, gid }];

function readAt(fd: number): string {
  const buf = Buffer.alloc(9);
  readSync(fd, buf, 0, 9, 0);
  return buf.toString('latin1');
}

test('the replaced version is kept one swap; an older one is unlinked after rapid swaps and zeroed once superseded long enough', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'keyway-atomic-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'set');
  createSetDir(dir, owner);
  const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
  const at = (ms: number): Date => new Date(t0 + ms);
  const payloads = (): string[] => readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data');

  await publish(dir, file('version-1'), owner, undefined, at(0));
  const held1 = openSync(join(dir, 'a'), 'r');
  t.after(() => closeSync(held1));
  await publish(dir, file('version-2'), owner, undefined, at(1_000));
  const held2 = openSync(join(dir, 'a'), 'r');
  t.after(() => closeSync(held2));
  const v2 = readlinkSync(join(dir, '..data'));
  assert.equal(payloads().length, 2, 'the replaced version is still there');

  // Version 1 was superseded 1 s before this swap: removed, but a held descriptor keeps whole bytes.
  await publish(dir, file('version-3'), owner, undefined, at(2_000));
  assert.equal(payloads().length, 2);
  assert.equal(readAt(held1), 'version-1');

  // Version 2 was superseded (at 2 s) long before this swap: overwritten with zeros, then removed.
  await publish(dir, file('version-4'), owner, undefined, at(2_000 + ZERO_AFTER_MS + 1_000));
  assert.equal(payloads().includes(v2), false);
  assert.equal(readAt(held2), '\0'.repeat(9));
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'version-4');

  // Release zeroes both versions left, whatever their age.
  const held4 = openSync(join(dir, 'a'), 'r');
  t.after(() => closeSync(held4));
  destroySetDir(dir);
  assert.equal(readAt(held4), '\0'.repeat(9));
});

test('concurrent publishes of one set (with a slow labeller) apply one at a time and never swap to a removed version', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'keyway-atomic-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'set');
  createSetDir(dir, owner);
  await publish(dir, file('v0'), owner);
  // Labelling yields between writing a payload and swapping it in: other publishes run meanwhile.
  const label = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
  await Promise.all([1, 2, 3, 4, 5].map((i) => publish(dir, file(`v${i}`), owner, label)));
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'v5');
  assert.equal(readdirSync(dir).filter((e) => e.startsWith('..') && e !== '..data').length, 2);
  destroySetDir(dir);
});
