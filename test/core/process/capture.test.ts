// Running a tool to completion with captured output, with real processes: stdin in, stdout capped
// and wiped on the way, stderr capped, deadlines and cancellation stop the group, and no message
// ever carries what the tool printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeywayError } from '../../../src/core/errors.js';
import { runCaptured, STDERR_CAP, type CaptureSpec } from '../../../src/core/process/capture.js';

const ENV = { PATH: '/usr/bin:/bin' };
const SECRET = 'hunter2-correct-horse';

function sh(script: string, more: Partial<CaptureSpec> = {}): CaptureSpec {
  return { file: '/bin/sh', args: ['-c', script], env: ENV, timeoutMs: 10_000, maxStdout: 1024 * 1024, where: 'test tool', ...more };
}

function zeroed(chunks: readonly Buffer[]): boolean {
  return chunks.length > 0 && chunks.every((c) => c.every((b) => b === 0));
}

function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('stdin reaches the tool and stdout comes back as one fresh buffer; every captured chunk is wiped', async () => {
  const chunks: Buffer[] = [];
  const r = await runCaptured(sh('cat; echo done >&2', { stdin: Buffer.from(SECRET), onChunk: (c) => chunks.push(c) }));
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString(), SECRET);
  assert.equal(r.stderr, 'done\n');
  assert.ok(zeroed(chunks), 'the chunks the output arrived in are zeroed');
});

test('output over maxStdout is refused as too_large, wiped, and the message holds none of it', async () => {
  const chunks: Buffer[] = [];
  await assert.rejects(
    runCaptured(sh(`while :; do echo ${SECRET}; done`, { maxStdout: 4096, onChunk: (c) => chunks.push(c) })),
    (e: unknown) => e instanceof KeywayError && e.code === 'too_large' && e.message === 'test tool: output of /bin/sh is larger than 4096 bytes' && !e.message.includes(SECRET),
  );
  assert.ok(zeroed(chunks));
});

test('a missed deadline stops the group, grandchildren included, and rejects with timeout', async () => {
  let grandchild = 0;
  const chunks: Buffer[] = [];
  const started = Date.now();
  await assert.rejects(
    runCaptured(
      sh(`sleep 1000 & echo $!; printf ${SECRET}; wait`, {
        timeoutMs: 300,
        onChunk: (c) => {
          grandchild ||= Number(c.toString().split('\n')[0]);
          chunks.push(c);
        },
      }),
    ),
    (e: unknown) => e instanceof KeywayError && e.code === 'timeout' && e.message === 'test tool: /bin/sh did not finish within 300 ms',
  );
  assert.ok(Date.now() - started < 2000, 'SIGTERM was enough; no wait for the grace');
  assert.ok(grandchild > 0);
  for (let i = 0; i < 50 && running(grandchild); i++) await sleep(20);
  assert.equal(running(grandchild), false, 'the grandchild was killed with the group');
  assert.ok(zeroed(chunks));
});

test('cancellation rejects with the signal reason', async () => {
  const ac = new AbortController();
  const reason = new KeywayError('cancelled', 'client went away');
  setTimeout(() => ac.abort(reason), 100);
  await assert.rejects(runCaptured(sh('sleep 1000', { signal: ac.signal })), (e: unknown) => e === reason);
  await assert.rejects(runCaptured(sh('true', { signal: ac.signal })), (e: unknown) => e === reason, 'an aborted signal starts nothing');
});

test('the exit status is passed through and stderr is capped', async () => {
  const r = await runCaptured(sh(`head -c 20000 /dev/zero | tr '\\0' e >&2; exit 3`));
  assert.equal(r.code, 3);
  assert.equal(r.signal, null);
  assert.equal(r.stderr.length, STDERR_CAP);
});

test('an extra descriptor reaches the tool as its fd 3', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-capture-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'held'), 'held open');
  const fd = openSync(join(dir, 'held'), 'r');
  t.after(() => closeSync(fd));
  const r = await runCaptured(sh('cat <&3', { extraFds: [fd] }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'held open');
});

test('a tool that is missing or not executable is unavailable', async (t) => {
  await assert.rejects(runCaptured({ ...sh(''), file: '/nonexistent/tool' }), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && e.message === 'test tool: /nonexistent/tool is not installed or not on PATH');
  const dir = mkdtempSync(join(tmpdir(), 'keyway-capture-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plain = join(dir, 'tool');
  writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
  await assert.rejects(runCaptured({ ...sh(''), file: plain }), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && /is not executable/.test(e.message));
});
