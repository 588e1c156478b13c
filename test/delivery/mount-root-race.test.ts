// Containment of the mount root against a local user who controls the runtime dir: they swap
// `mounts` for a symlink in a tight loop while keyway sets the root up. Whatever they do, root's
// tmpfs never lands outside the runtime dir (checked in /proc/self/mountinfo after every start).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureRootInOpenDir } from '../../src/delivery/mount-root.js';
import { openDirNoFollow } from '../../src/delivery/fd-mount.js';
import { readMountInfo } from '../../src/delivery/mountinfo.js';
import { run } from '../../src/delivery/exec.js';
import { CLI, ensureBuilt, testInstance } from '../helpers/cli.js';
import { localUser, spawnAs, type LocalUser } from '../helpers/unprivileged.js';
import { ROOT_SKIP, sandbox } from './helpers.js';

const STARTS = 50;

// Moves whatever `mounts` is aside, puts a symlink to the target there, then puts it back.
const SWAPPER = `
my $target = shift;
symlink $target, "L";
while (1) { rename "mounts", "M"; rename "L", "mounts"; rename "mounts", "L"; rename "M", "mounts"; }
`;

/** Runs `body` while the swapper runs; stops it (before any cleanup) and unmounts what is left. */
async function whileSwapping(attacker: LocalUser, runtimeDir: string, target: string, base: string, body: () => Promise<void>): Promise<void> {
  const child = spawnAs(attacker, 'perl', ['-e', SWAPPER, target], runtimeDir);
  try {
    await body();
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    await unmountAllUnder(base);
  }
}

/** Mount points below `base` that are not inside `inside`. */
function mountsOutside(base: string, inside: string): string[] {
  return readMountInfo()
    .map((e) => e.mountPoint)
    .filter((p) => (p === base || p.startsWith(base + '/')) && p !== inside && !p.startsWith(inside + '/'));
}

/**
 * The runtime dir of the report: `runtimeDir` (in `base`, which others may traverse) owned by the
 * attacker, who can rename entries in it. Returns a world-writable dir to swap in as the target.
 */
function attackerOwns(attacker: LocalUser, base: string, runtimeDir: string): string {
  chmodSync(base, 0o711);
  mkdirSync(runtimeDir, { mode: 0o755 });
  chownSync(runtimeDir, attacker.uid, attacker.gid);
  const target = join(base, 'target');
  mkdirSync(target, { mode: 0o777 });
  return target;
}

async function unmountAllUnder(dir: string): Promise<void> {
  // Mount points cannot be renamed (EBUSY), so these paths are stable while the swapper runs.
  for (let i = 0; i < 8; i++) {
    const under = readMountInfo().map((e) => e.mountPoint).filter((p) => p.startsWith(dir + '/'));
    if (under.length === 0) return;
    for (const p of under.sort((a, b) => b.length - a.length)) await run('umount', ['-l', '--no-canonicalize', p]);
  }
}

void test('a user swapping mounts for a symlink in a tight loop never gets the mount root mounted outside the runtime dir', { skip: ROOT_SKIP }, async (t) => {
  const attacker = localUser('keyway-attacker');
  const sb = sandbox(t);
  const target = attackerOwns(attacker, sb.base, sb.runtimeDir);
  let mounted = 0;
  let refused = 0;
  const outside: string[] = [];
  await whileSwapping(attacker, sb.runtimeDir, target, sb.base, async () => {
    for (let i = 0; i < STARTS; i++) {
      // The mounting step alone, without the runtime dir's owner check in front of it.
      const rt = openDirNoFollow(sb.runtimeDir, 'runtime dir');
      try {
        await ensureRootInOpenDir(rt.fd, { runtimeDir: sb.runtimeDir });
        mounted++;
      } catch {
        refused++;
      } finally {
        closeSync(rt.fd);
      }
      outside.push(...mountsOutside(sb.base, sb.runtimeDir));
      await unmountAllUnder(sb.runtimeDir);
    }
  });
  assert.deepEqual(outside, [], `mounted outside the runtime dir (${mounted} mounted, ${refused} refused)`);
  assert.ok(mounted + refused === STARTS);
});

void test('keyway run refuses a runtime dir owned by another user on every one of 50 starts while that user swaps mounts', { skip: ROOT_SKIP }, async (t) => {
  ensureBuilt();
  const attacker = localUser('keyway-attacker');
  const i = testInstance(t);
  const target = attackerOwns(attacker, i.dir, i.runtimeDir);
  const outside: string[] = [];
  const messages = new Set<string>();
  const start = (): Promise<{ status: number | null; stderr: string }> =>
    new Promise((resolve) => {
      const c = spawn(process.execPath, [CLI, 'run', '--', 'true'], { env: i.env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (status) => resolve({ status, stderr }));
    });
  const inside: string[] = [];
  await whileSwapping(attacker, i.runtimeDir, target, i.dir, async () => {
    for (let n = 0; n < STARTS; n += 5) {
      const results = await Promise.all([start(), start(), start(), start(), start()]);
      for (const r of results) {
        assert.notEqual(r.status, 0);
        messages.add(r.stderr.replace(/\d+/g, 'N').trim());
      }
      outside.push(...mountsOutside(i.dir, i.runtimeDir));
      inside.push(...readMountInfo().map((e) => e.mountPoint).filter((p) => p.startsWith(i.dir + '/')));
    }
  });
  assert.deepEqual(outside, []);
  assert.deepEqual(inside, [], 'nothing mounted at all');
  assert.equal(messages.size, 1, [...messages].join('\n'));
  const [message] = [...messages];
  assert.match(message ?? '', /runtime dir .* is owned by uid N, not keyway's uid N/);
  assert.match(message ?? '', /fix: remove it/);
});
