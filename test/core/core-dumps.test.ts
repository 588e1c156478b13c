// A crash of keyway must not write its memory to disk: `serve` and `run` set their own core limit to
// 0 and keep memory out of dumps, even when started with an unlimited core limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreLimit } from '../../src/core/core-dumps.js';
import { CLI, testInstance } from '../helpers/cli.js';
import { rootSkipReason } from '../helpers/tools.js';

const ROOT_SKIP = rootSkipReason('keyway run mounts a noswap tmpfs, which needs root');

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts the CLI with soft and hard core limits raised to unlimited, as a careless shell would. */
function unlimited(args: readonly string[], env: NodeJS.ProcessEnv): ReturnType<typeof spawn> {
  return spawn('prlimit', ['--core=unlimited', process.execPath, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
}

void test('keyway serve runs with a core limit of 0 and its memory excluded from core dumps', async (t) => {
  const i = testInstance(t);
  const child = unlimited(['serve'], i.env);
  t.after(() => child.kill('SIGKILL'));
  await waitFor(() => existsSync(join(i.runtimeDir, 'keyway.sock')));
  // prlimit execs node, so the pid is keyway's own.
  assert.deepEqual(coreLimit(child.pid), { soft: 0, hard: 0 });
  assert.equal(Number.parseInt(readFileSync(`/proc/${child.pid}/coredump_filter`, 'utf8'), 16), 0);
  child.kill('SIGTERM');
});

void test('keyway run runs with a core limit of 0, and so does its command', { skip: ROOT_SKIP }, async (t) => {
  const i = testInstance(t);
  // The command reads its parent's (keyway's) limits and its own.
  const child = unlimited(['run', '--', 'sh', '-c', 'cat /proc/$PPID/limits /proc/$PPID/coredump_filter; cat /proc/self/limits'], i.env);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(status, 0, err);
  const cores = out.split('\n').filter((l) => l.startsWith('Max core file size'));
  assert.equal(cores.length, 2);
  for (const l of cores) assert.match(l, /^Max core file size\s+0\s+0\s+bytes/);
  assert.ok(out.includes('\n00000000\n'), out);
});

void test('a plain CLI command keeps its memory out of core dumps', async (t) => {
  const i = testInstance(t);
  // `keyway secret create` reads the value from stdin: a chance to look at the live process.
  const child = spawn(process.execPath, [CLI, 'secret', 'create', 'x', '-'], { env: i.env, stdio: ['pipe', 'ignore', 'pipe'] });
  await waitFor(() => {
    try {
      return readFileSync(`/proc/${child.pid}/coredump_filter`, 'utf8').trim() === '00000000';
    } catch {
      return false;
    }
  }, 10_000);
  child.stdin?.end('value');
  await new Promise((resolve) => child.on('close', resolve));
});
