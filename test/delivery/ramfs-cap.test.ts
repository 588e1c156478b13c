// A ramfs mount root has no size limit of its own, so keyway bounds the bytes it writes there: a
// create or update that would pass the cap is refused with too_large, leaving earlier state intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { silentLogger } from '../../src/core/logger.js';
import { run } from '../../src/delivery/exec.js';
import { ensureMountRoot, mountRootPath } from '../../src/delivery/mount-root.js';
import { MountSetManager } from '../../src/delivery/mount-sets.js';
import { openDb } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { ROOT_SKIP, sandbox } from './helpers.js';

const bytes = (n: number, b: number): SecretValue => SecretValue.adopt(Buffer.alloc(n, b));
const tooLarge = (e: unknown): boolean => e instanceof KeywayError && e.code === 'too_large' && /ramfs/.test(e.message) && /over keyway's cap/.test(e.message);

void test('a ramfs mount root refuses a create or update that would pass the total cap, and release makes room again', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  mkdirSync(sb.runtimeDir, { mode: 0o700 });
  mkdirSync(mountRootPath(sb.runtimeDir), { mode: 0o700 });
  // What rootless serve and run mount in their user namespace (root uses ramfs when noswap fails).
  const m = await run('mount', ['-t', 'ramfs', '-o', 'mode=0700', 'keyway-test-ramfs', mountRootPath(sb.runtimeDir)]);
  assert.ok(m.ok, m.stderr);
  const root = await ensureMountRoot({ runtimeDir: sb.runtimeDir });
  assert.equal(root.fsType, 'ramfs');
  const db = openDb(sb.stateDir);
  const repo = new MountSetsRepo(db);
  const mgr = new MountSetManager({ root, repo, logger: silentLogger(), ramfsMaxBytes: 10_000 });
  t.after(() => {
    mgr.releaseAll();
    db.close();
  });

  const a = await mgr.create('a', [{ name: 'v', bytes: bytes(4_000, 1) }]);
  const b = await mgr.create('b', [{ name: 'v', bytes: bytes(3_000, 2) }, { name: 'w', bytes: bytes(1_000, 3) }]);
  await assert.rejects(mgr.create('c', [{ name: 'v', bytes: bytes(4_000, 4) }]), tooLarge);
  assert.equal(readdirSync(root.path).length, 2, 'nothing of the refused set was created');
  assert.equal(repo.list().length, 2, 'and nothing recorded');

  // An update writes a new version beside the current one (kept one more swap): 8,000 + 3,000.
  await assert.rejects(a.update([{ name: 'v', bytes: bytes(3_000, 5) }]), tooLarge);
  assert.equal(readFileSync(join(a.dir, 'v'))[0], 1, 'the refused update left the previous version');

  b.release();
  const c = await mgr.create('c', [{ name: 'v', bytes: bytes(4_000, 4) }]);
  assert.ok(existsSync(join(c.dir, 'v')));
  await a.update([{ name: 'v', bytes: bytes(1_000, 6) }]);
  assert.equal(readFileSync(join(a.dir, 'v'))[0], 6);
});
