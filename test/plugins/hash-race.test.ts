// A plugin file rewritten while keyway hashes it: the bytes that run are exactly the bytes hashed
// (and pinned), or the spawn is refused. The host's hashing seam rewrites the file at a chosen
// chunk, so each interleaving is exact rather than left to timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { KeywayError } from '../../src/core/errors.js';
import { PluginHost } from '../../src/plugins/host/host.js';
import type { LaunchInfo } from '../../src/plugins/host/launcher.js';
import { captureLogger, deps, entryFor, script, tempDir } from './helpers.js';

const never = new AbortController().signal;
const CHUNK = 64 * 1024;

/** A oneshot plugin answering `word`, padded to several hash chunks (the padding differs too). */
function body(word: string, pad: string): string {
  return `#!/bin/sh\nIFS= read -r h\nprintf '{"v":1,"id":"1","ok":true,"size":4}\\n${word}'\nexit 0\n# ${pad.repeat(3 * CHUNK)}\n`;
}
const GOOD = body('good', 'A');
const EVIL = body('evil', 'B');

type Step = (path: string, pos: number) => void;

async function lookupWith(t: { after(fn: () => void): void }, steps: Readonly<Record<number, Step>>): Promise<{ result: string | KeywayError; launches: LaunchInfo[]; pinned: string }> {
  const dir = tempDir(t, 'keyway-hash-race-');
  const path = script(dir, 'p', GOOD);
  const entry = entryFor('p', path, { sandbox: false });
  const launches: LaunchInfo[] = [];
  const { logger } = captureLogger();
  const host = new PluginHost(entry, deps(logger, { onHashChunk: (pos) => steps[pos]?.(path, pos) }, launches));
  try {
    const result = (await host.lookup('x', {}, never)).value.expose().toString();
    return { result, launches, pinned: entry.sha256 ?? '' };
  } catch (e) {
    if (!(e instanceof KeywayError)) throw e;
    return { result: e, launches, pinned: entry.sha256 ?? '' };
  } finally {
    await host.close();
  }
}

const rewrite: Step = (path) => writeFileSync(path, EVIL);
const restore: Step = (path) => writeFileSync(path, GOOD);
const lastChunk = Math.floor((Buffer.byteLength(GOOD) - 1) / CHUNK) * CHUNK;

test('a plugin rewritten after its first chunk was hashed is refused with a checksum error', async (t) => {
  const { result, launches } = await lookupWith(t, { 0: rewrite });
  assert.ok(result instanceof KeywayError && result.code === 'checksum_mismatch', String(result));
  assert.equal(launches.length, 0);
});

test('a plugin rewritten after its last chunk was hashed runs the bytes that were hashed, or is refused', async (t) => {
  const { result, launches, pinned } = await lookupWith(t, { [lastChunk]: rewrite });
  if (result instanceof KeywayError) {
    assert.equal(result.code, 'checksum_mismatch', result.message);
    assert.equal(launches.length, 0);
  } else {
    // What ran is what was pinned, never the rewrite that landed after hashing.
    assert.equal(result, 'good');
    assert.equal(launches[0]?.sha256, pinned);
  }
});

test('a plugin rewritten mid-hash and restored before the end (same bytes afterwards) is refused', async (t) => {
  const { result, launches } = await lookupWith(t, { 0: rewrite, [CHUNK]: restore });
  assert.ok(result instanceof KeywayError && result.code === 'checksum_mismatch', String(result));
  assert.equal(launches.length, 0);
});
