// The one process supervisor, with real processes: group stops reach grandchildren, SIGKILL follows
// a trapped SIGTERM after the grace, the group is swept once at the leader's exit and never
// signalled after, and a child without a group of its own is signalled alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeywayError } from '../../../src/core/errors.js';
import { exitError, exitPhrase, exitStatusOf, Supervised } from '../../../src/core/process/supervise.js';

const ENV = { PATH: '/usr/bin:/bin' };

/** Gone or a zombie waiting for init: either way it runs no more. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function stopsRunning(pid: number, ms = 3000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (!running(pid)) return true;
  return false;
}

/** The first line the child prints (a pid it reports). */
async function firstLine(p: Supervised): Promise<number> {
  const stdout = p.child.stdout;
  assert.ok(stdout);
  let text = '';
  while (!text.includes('\n')) {
    const [chunk] = (await once(stdout, 'data')) as [Buffer];
    text += chunk.toString();
  }
  return Number(text.split('\n')[0]);
}

test('aborting stops the whole process group, grandchildren included', async () => {
  const ac = new AbortController();
  const p = new Supervised({ file: '/bin/sh', args: ['-c', 'sleep 1000 & echo $!; wait'], env: ENV, stdio: ['ignore', 'pipe', 'inherit'], graceMs: 2000, signal: ac.signal });
  const grandchild = await firstLine(p);
  assert.ok(running(grandchild));
  ac.abort();
  const ended = await p.exited;
  assert.equal(ended.aborted, true);
  assert.equal(ended.signal, 'SIGTERM');
  assert.ok(await stopsRunning(grandchild), 'the grandchild was killed with its group');
});

test('a child that traps SIGTERM is killed with SIGKILL once the grace has passed', async () => {
  const p = new Supervised({ file: '/bin/sh', args: ['-c', 'trap "" TERM; echo $$; while :; do sleep 0.05; done'], env: ENV, stdio: ['ignore', 'pipe', 'inherit'], graceMs: 300 });
  await firstLine(p);
  const started = Date.now();
  p.stop();
  assert.equal(p.stopping, true);
  const ended = await p.exited;
  assert.equal(ended.signal, 'SIGKILL');
  assert.ok(Date.now() - started >= 290, `SIGKILL came after the grace, not before (${Date.now() - started} ms)`);
  assert.equal(ended.aborted, false);
});

test('when the leader exits the group is swept once, and never signalled after that', async (t) => {
  const p = new Supervised({ file: '/bin/sh', args: ['-c', 'sleep 1000 & echo $!'], env: ENV, stdio: ['ignore', 'pipe', 'inherit'], graceMs: 2000 });
  const leftover = await firstLine(p);
  const ended = await p.exited;
  assert.equal(ended.code, 0);
  assert.ok(await stopsRunning(leftover), 'what the leader left behind was swept');
  // The group id may be reused from here on: no stop, signal or timer may reach it.
  const kills: unknown[] = [];
  t.mock.method(process, 'kill', (...args: unknown[]) => {
    kills.push(args);
    return true;
  });
  p.stop();
  p.signal('SIGTERM');
  await sleep(50);
  assert.deepEqual(kills, []);
  assert.equal(p.alive, false);
  assert.equal(p.stopping, false);
});

test('with the sweep turned off, what the leader left behind on purpose outlives it', async () => {
  const p = new Supervised({ file: '/bin/sh', args: ['-c', 'sleep 1000 & echo $!'], env: ENV, stdio: ['ignore', 'pipe', 'inherit'], graceMs: 2000, sweep: false });
  const kept = await firstLine(p);
  try {
    await p.exited;
    await sleep(100);
    assert.ok(running(kept), 'a pause process (say) is not killed with the command that started it');
  } finally {
    process.kill(kept, 'SIGKILL');
  }
});

test('without a group of its own only the leader is signalled, and it stays in our process group', async () => {
  const p = new Supervised({ file: '/bin/sh', args: ['-c', 'sleep 1000 & echo $!; wait'], env: ENV, stdio: ['ignore', 'pipe', 'inherit'], graceMs: 2000, group: false });
  const grandchild = await firstLine(p);
  try {
    const pgrp = (pid: number | string): string => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[2] ?? '';
    assert.equal(pgrp(p.pid ?? 0), pgrp('self'));
    p.stop();
    const ended = await p.exited;
    assert.equal(ended.signal, 'SIGTERM');
    await sleep(100);
    assert.ok(running(grandchild), 'the grandchild was not signalled');
  } finally {
    process.kill(grandchild, 'SIGKILL');
  }
});

test('a program that cannot start settles with its spawn error', async () => {
  const p = new Supervised({ file: '/nonexistent/tool', args: [], env: ENV, stdio: 'ignore', graceMs: 100 });
  assert.equal((await p.started)?.code, 'ENOENT');
  const ended = await p.closed;
  assert.equal(ended.spawnError?.code, 'ENOENT');
  assert.equal(p.alive, false);
});

test('an exit status becomes a KeywayError naming status or signal and only the detail given', () => {
  assert.equal(exitPhrase({ code: 3, signal: null }), 'exited with status 3');
  assert.equal(exitPhrase({ code: null, signal: 'SIGKILL' }), 'was killed by SIGKILL');
  const e = exitError('internal', 'pass provider "p": show x: pass', { code: 2, signal: null }, 'gpg: oops');
  assert.ok(e instanceof KeywayError);
  assert.equal(e.code, 'internal');
  assert.equal(e.message, 'pass provider "p": show x: pass exited with status 2 (gpg: oops)');
  assert.equal(exitError('unavailable', 'tool', { code: null, signal: 'SIGTERM' }).message, 'tool was killed by SIGTERM');
});

test("the status to exit with is the child's code, or 128 + the number of the signal that killed it", () => {
  assert.equal(exitStatusOf(3, null), 3);
  assert.equal(exitStatusOf(0, null), 0);
  assert.equal(exitStatusOf(null, 'SIGTERM'), 143);
  assert.equal(exitStatusOf(null, 'SIGKILL'), 137);
});
