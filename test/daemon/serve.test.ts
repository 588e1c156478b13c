import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { CLI, testInstance } from '../helpers/cli.js';

function get(socketPath: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('serve answers health and lists secrets without values, then removes its socket on SIGTERM', async (t) => {
  const i = testInstance(t);
  i.writeConfig('[docker]\nenabled = false\n[csi]\nenabled = false\n');
  const canary = 'CANARY-serve-77';
  assert.equal(i.run(['secret', 'create', 'db', '-'], { input: canary }).status, 0);
  const child = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  t.after(() => child.kill('SIGKILL'));
  const sock = join(i.runtimeDir, 'keyway.sock');
  await waitFor(() => existsSync(sock));
  assert.equal(statSync(sock).mode & 0o777, 0o600);
  const health = await get(sock, '/v1/health');
  assert.equal(health.status, 200);
  assert.deepEqual((health.body as { status: string }).status, 'ok');
  const list = await get(sock, '/v1/secrets');
  assert.deepEqual((list.body as { Name: string }[]).map((s) => s.Name), ['db']);
  const one = await get(sock, '/v1/secrets/db');
  assert.equal((one.body as { Name: string }).Name, 'db');
  const missing = await get(sock, '/v1/secrets/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual((missing.body as { error: { code: string } }).error.code, 'not_found');
  assert.ok(!JSON.stringify([list.body, one.body]).includes(canary));
  const metrics = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath: sock, path: '/metrics' }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
  assert.match(metrics, /# TYPE keyway_requests_total counter/);
  assert.match(metrics, /keyway_live_mount_sets 0/);
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  assert.ok(!existsSync(sock), 'socket removed');
  assert.ok(!logs.includes(canary));
});

test('a second serve on the same runtime dir refuses to steal a live socket', async (t) => {
  const i = testInstance(t);
  i.writeConfig('[docker]\nenabled = false\n[csi]\nenabled = false\n');
  const first = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: 'ignore' });
  t.after(() => first.kill('SIGKILL'));
  await waitFor(() => existsSync(join(i.runtimeDir, 'keyway.sock')));
  const second = await i.runAsync(['serve']);
  assert.equal(second.status, 1);
  assert.match(second.stderr, /keyway: already_exists: admin API: another server is listening/);
  assert.deepEqual((await get(join(i.runtimeDir, 'keyway.sock'), '/v1/health')).status, 200);
});

test('a stale socket left by a killed daemon is replaced on the next start', async (t) => {
  const i = testInstance(t);
  i.writeConfig('[docker]\nenabled = false\n[csi]\nenabled = false\n');
  const sock = join(i.runtimeDir, 'keyway.sock');
  const first = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: 'ignore' });
  await waitFor(() => existsSync(sock));
  const gone = new Promise((r) => first.on('exit', r));
  first.kill('SIGKILL');
  await gone;
  assert.ok(existsSync(sock), 'SIGKILL leaves the socket behind');
  const second = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: 'ignore' });
  t.after(() => second.kill('SIGKILL'));
  // The new daemon replaces the dead socket: poll until it answers.
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await get(sock, '/v1/health')).status === 200) break;
    } catch {
      // not yet listening
    }
    assert.ok(Date.now() < end && second.exitCode === null, 'second serve did not take over the stale socket');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await get(sock, '/v1/health')).status, 200);
});
