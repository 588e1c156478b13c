import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, makeInstance } from '../helpers/cli.js';
import { unmountRoot } from '../../src/delivery/mount-root.js';

/**
 * Starts `keyway serve` with extra args, waits for its "keyway serving" line, stops it with SIGTERM
 * and returns everything it wrote to stderr. With `tty`, stderr is a pseudo-terminal (script(1)).
 */
async function serveLogs(args: readonly string[], tty: boolean): Promise<string> {
  const i = makeInstance('kw-log-');
  const serve = [process.execPath, CLI, 'serve', ...args].map((a) => `'${a}'`).join(' ');
  // Under script(1) the daemon runs in its own session; it reports its pid so it can be stopped.
  const child = tty
    ? spawn('script', ['-qfec', `${serve} & echo "PID=$!"; wait`, '/dev/null'], { env: { ...i.env, KEYWAY_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn('/bin/sh', ['-c', `echo "PID=$$" >&2; exec ${serve}`], { env: { ...i.env, KEYWAY_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  (tty ? child.stdout : child.stderr)?.on('data', (d: Buffer) => (out += d.toString()));
  try {
    const deadline = Date.now() + 30_000;
    while (!out.includes('keyway serving')) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`keyway serve did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const pid = Number(/PID=(\d+)/.exec(out)?.[1]);
    process.kill(pid, 'SIGTERM');
    await exited;
    return out.replace(/^PID=\d+\r?\n/m, '');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    try {
      await unmountRoot(i.runtimeDir);
    } catch {
      // nothing mounted
    }
    i.cleanup();
  }
}

const TEXT_LINE = /^\d\d:\d\d:\d\d\.\d{3} INFO  keyway serving frontends=/m;

test('serve logs JSON lines when stderr is not a terminal', async () => {
  const logs = await serveLogs([], false);
  const lines = logs.trim().split('\n');
  const records = lines.map((l) => JSON.parse(l) as { msg?: string; level?: number });
  assert.ok(records.some((r) => r.msg === 'keyway serving' && r.level === 30), logs);
  assert.ok(records.some((r) => r.msg === 'shutting down'));
});

test('serve logs human-readable lines when stderr is a terminal', async () => {
  const logs = await serveLogs([], true);
  assert.match(logs, TEXT_LINE);
  assert.ok(!logs.includes('{"level"'), logs);
});

test('--log-format overrides what the terminal check would choose, both ways', async () => {
  assert.match(await serveLogs(['--log-format', 'text'], false), TEXT_LINE);
  const json = await serveLogs(['--log-format', 'json'], true);
  assert.ok(json.split(/\r?\n/).some((l) => l.startsWith('{') && (JSON.parse(l) as { msg?: string }).msg === 'keyway serving'), json);
});

test('an unknown --log-format is a usage error that names the flag', () => {
  const i = makeInstance();
  try {
    const r = i.run(['--log-format', 'yaml', 'secret', 'ls']);
    assert.equal(r.status, 2);
    assert.match(r.stderr.toString(), /--log-format: expected one of auto, text, json/);
  } finally {
    i.cleanup();
  }
});
