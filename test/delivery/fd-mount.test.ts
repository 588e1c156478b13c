import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mountOnFd, openDirNoFollow } from '../../src/delivery/fd-mount.js';
import { ROOT_SKIP, sandbox } from './helpers.js';

/** Running, not a zombie left for a parent that may never reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (cond()) return true;
  return cond();
}

void test('an aborted mount is stopped together with the helper mount(8) started', { skip: ROOT_SKIP }, async (t) => {
  const sb = sandbox(t);
  // mount(8) runs /sbin/mount.TYPE for a type that has one: this one hangs, holding a background child.
  const fsType = `keywaytest${process.pid}`;
  const helper = `/sbin/mount.${fsType}`;
  const pidFile = join(sb.base, 'helper.pid');
  writeFileSync(helper, `#!/bin/sh\nsleep 300 &\necho $! > ${pidFile}\nwait\n`, { mode: 0o755 });
  let leftover: number | undefined;
  t.after(() => {
    rmSync(helper, { force: true });
    if (leftover !== undefined && alive(leftover)) process.kill(leftover, 'SIGKILL');
  });
  const dir = openDirNoFollow(sb.base, 'sandbox');
  try {
    const ac = new AbortController();
    const mounted = mountOnFd(dir.fd, fsType, 'ro', 'keyway-test', ac.signal);
    assert.ok(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 10_000), 'the helper started');
    leftover = Number(readFileSync(pidFile, 'utf8').trim());
    ac.abort();
    // Within the tool grace: a helper still holding mount's stderr open must not keep it waiting.
    const r = await Promise.race([mounted, sleep(5_000).then(() => undefined)]);
    assert.equal(r?.ok, false, 'the aborted mount returned within 5 s');
    assert.equal(r?.stderr, 'host tool: mount was cancelled', 'it says why it failed');
    assert.ok(await waitFor(() => !alive(leftover as number), 1_000), `the helper's child ${leftover} was stopped with the mount`);
  } finally {
    closeSync(dir.fd);
  }
});
