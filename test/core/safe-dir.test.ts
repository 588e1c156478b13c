// Which directories keyway trusts with its state and runtime files: its own, writable by nobody
// else, below parents only root or keyway's uid control (sticky dirs aside). Real other users.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import { ensureOwnDir } from '../../src/core/safe-dir.js';
import { ensureMountRoot, unmountRoot } from '../../src/delivery/mount-root.js';
import { mountAt } from '../../src/delivery/mountinfo.js';
import { openDb } from '../../src/store/db.js';
import { localUser } from '../helpers/unprivileged.js';
import { rootSkipReason } from '../helpers/tools.js';

const ROOT_SKIP = rootSkipReason('needs root to create and act as other users');

function base(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-safe-dir-'));
  t.after(async () => {
    await unmountRoot(join(dir, 'run')).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function refused(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof KeywayError, String(e));
    assert.equal(e.code, 'failed_precondition');
    assert.match(e.message, pattern);
    return true;
  };
}

void test('a runtime dir owned by another user is refused with the fix in the message, and nothing is created or mounted in it', { skip: ROOT_SKIP }, async (t) => {
  const other = localUser('keyway-attacker');
  const rt = join(base(t), 'run');
  mkdirSync(rt, { mode: 0o700 });
  chownSync(rt, other.uid, other.gid);
  await assert.rejects(ensureMountRoot({ runtimeDir: rt }), refused(new RegExp(`runtime dir ${rt} is owned by uid ${other.uid}, not keyway's uid 0.*fix: remove it`)));
  assert.deepEqual(readdirSync(rt), []);
  assert.equal(mountAt(join(rt, 'mounts')), undefined);
});

void test('a runtime dir writable by group or others is refused with chmod 700 as the fix', { skip: ROOT_SKIP }, async (t) => {
  const b = base(t);
  for (const mode of [0o770, 0o777, 0o1777]) {
    const rt = join(b, 'run');
    rmSync(rt, { recursive: true, force: true });
    mkdirSync(rt);
    chmodSync(rt, mode);
    await assert.rejects(ensureMountRoot({ runtimeDir: rt }), refused(new RegExp(`has mode 0?${mode.toString(8)}: group or others could have planted files in it; fix: check what is inside, then chmod 700 ${rt}`)));
    assert.deepEqual(readdirSync(rt), [], `mode ${mode.toString(8)}`);
  }
});

void test('a parent directory that others can write (not sticky) or that another user owns is refused, naming that parent', { skip: ROOT_SKIP }, (t) => {
  const other = localUser('keyway-attacker');
  const b = base(t);
  const open = join(b, 'open');
  mkdirSync(open, { mode: 0o777 });
  chmodSync(open, 0o777);
  assert.throws(() => ensureOwnDir(join(open, 'state'), 'state dir'), refused(new RegExp(`${open} has mode 0777: group or others can rename entries in it; fix: chmod go-w ${open}`)));
  assert.deepEqual(readdirSync(open), []);
  const theirs = join(b, 'theirs');
  mkdirSync(theirs, { mode: 0o755 });
  chownSync(theirs, other.uid, other.gid);
  assert.throws(() => ensureOwnDir(join(theirs, 'a', 'state'), 'state dir'), refused(new RegExp(`${theirs} is owned by uid ${other.uid}, so that user can replace what is inside it`)));
  assert.deepEqual(readdirSync(theirs), []);
  // The same through a symlink: the directory it leads to is judged.
  symlinkSync(open, join(b, 'link'));
  assert.throws(() => ensureOwnDir(join(b, 'link', 'state'), 'state dir'), refused(/reached through a symlink/));
});

void test('a sticky world-writable parent such as /tmp is accepted, and missing levels are created 0700', { skip: ROOT_SKIP }, (t) => {
  const b = base(t);
  const shared = join(b, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  const st = ensureOwnDir(join(shared, 'a', 'b'), 'runtime dir');
  assert.equal(st.mode & 0o777, 0o700);
  assert.equal(st.uid, 0);
});

void test('a state dir owned by another user or writable by others is refused before the database is opened', { skip: ROOT_SKIP }, (t) => {
  const other = localUser('keyway-attacker');
  const b = base(t);
  const theirs = join(b, 'theirs');
  mkdirSync(theirs, { mode: 0o700 });
  chownSync(theirs, other.uid, other.gid);
  assert.throws(() => openDb(theirs), refused(/state dir .* is owned by uid \d+, not keyway's uid 0/));
  assert.deepEqual(readdirSync(theirs), []);
  const loose = join(b, 'loose');
  mkdirSync(loose);
  chmodSync(loose, 0o775);
  assert.throws(() => openDb(loose), refused(/state dir .* has mode 0775.*chmod 700/));
  assert.deepEqual(readdirSync(loose), []);
});
