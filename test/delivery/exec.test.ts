// Host tools through run(): what a tool leaves in its process group is killed when it exits,
// unless the caller keeps it on purpose (rootless Podman's pause process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../../src/delivery/exec.js';

/** Gone or a zombie waiting for init: either way it runs no more. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Runs sh, which leaves a sleep behind and prints its pid. */
async function leaveBehind(sweep?: boolean): Promise<number> {
  const r = await run('sh', ['-c', 'sleep 1000 >/dev/null 2>&1 & echo $!'], sweep === undefined ? {} : { sweep });
  assert.equal(r.ok, true, r.stderr);
  const pid = Number(r.stdout.trim());
  assert.ok(pid > 0, r.stdout);
  return pid;
}

void test('a host tool leaves nothing running behind it', async () => {
  const pid = await leaveBehind();
  try {
    let gone = false;
    for (const end = Date.now() + 3000; !gone && Date.now() < end; await sleep(20)) gone = !running(pid);
    assert.ok(gone, 'the process the tool left in its group was killed');
  } finally {
    if (running(pid)) process.kill(pid, 'SIGKILL');
  }
});

void test('a host tool run without the sweep may leave a process that outlives it', async () => {
  const pid = await leaveBehind(false);
  try {
    await sleep(100);
    assert.ok(running(pid), 'a pause process (say) is not killed with the command that started it');
  } finally {
    process.kill(pid, 'SIGKILL');
  }
});
