// The key file under concurrent first use: several keyway processes may create it at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const KEY_FILE = pathToFileURL(join(import.meta.dirname, '../../../src/providers/local/key-file.ts')).href;

/** One process that waits for `go` (a time), then reads or creates the key and prints its id. */
function racer(path: string, go: number): Promise<{ code: number | null; out: string }> {
  const script = `import { readOrCreateKeyFile } from ${JSON.stringify(KEY_FILE)};
while (Date.now() < ${go});
try { console.log(readOrCreateKeyFile(${JSON.stringify(path)}).id); } catch (e) { console.log('ERR ' + e.message); process.exitCode = 1; }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => resolve({ code, out: out.trim() }));
  });
}

test('processes creating the key file at the same moment all get the one key; none sees a half-written file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-keyrace-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (let round = 0; round < 6; round++) {
    const path = join(dir, `r${round}`, 'local.key');
    const go = Date.now() + 1500;
    const results = await Promise.all(Array.from({ length: 6 }, () => racer(path, go)));
    const ids = new Set(results.map((r) => r.out));
    assert.equal(ids.size, 1, `round ${round}: ${[...ids].join(' | ')}`);
    assert.match([...ids][0] ?? '', /^[0-9a-f]{16}$/);
    assert.deepEqual(readdirSync(join(dir, `r${round}`)), ['local.key'], 'no temp file is left behind');
  }
});
