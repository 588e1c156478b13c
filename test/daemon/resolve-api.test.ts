import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { CLI, testInstance } from '../helpers/cli.js';

function post(socketPath: string, path: string, body: unknown): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'POST' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('POST /v1/resolve returns the exact bytes of a named secret or reference, and JSON errors', async (t) => {
  const i = testInstance(t);
  i.writeConfig('[docker]\nenabled = false\n[csi]\nenabled = false\n');
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, n) => n));
  assert.equal(i.run(['secret', 'create', 'bin', '-'], { input: bytes }).status, 0);
  assert.equal(i.run(['secret', 'create', 'doc', '-'], { input: '{"a":{"b":"deep"}}' }).status, 0);
  const child = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  const sock = join(i.runtimeDir, 'keyway.sock');
  for (let n = 0; n < 400 && !existsSync(sock); n++) await new Promise((r) => setTimeout(r, 25));
  const ok = await post(sock, '/v1/resolve', { target: 'bin', consumer: 'test' });
  assert.equal(ok.status, 200);
  assert.equal(ok.type, 'application/octet-stream');
  assert.deepEqual(ok.body, bytes);
  assert.equal((await post(sock, '/v1/resolve', { target: 'ref+secret://doc#/a/b' })).body.toString(), 'deep');
  const missing = await post(sock, '/v1/resolve', { target: 'nope' });
  assert.equal(missing.status, 404);
  assert.equal((JSON.parse(missing.body.toString()) as { error: { code: string } }).error.code, 'not_found');
  const bad = await post(sock, '/v1/resolve', { target: 42 });
  assert.equal(bad.status, 400);
});
