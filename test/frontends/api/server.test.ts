// Bad input to the admin API is the client's mistake: 400 invalid_argument with a JSON error,
// never 500 internal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/core/logger.js';
import { AdminApi, readJson } from '../../../src/frontends/api/server.js';

async function startApi(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kw-api-'));
  const socket = join(dir, 'api.sock');
  const api = new AdminApi({ socket, version: 't', logger: silentLogger(), listSecrets: () => [], getSecret: () => undefined, toJson: () => ({}) });
  // The same body handling as POST /v1/resolve in serve.
  api.route('POST /v1/echo', async (req) => {
    const body = await readJson(req);
    return { keys: Object.keys(body) };
  });
  await api.start();
  t.after(async () => {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return socket;
}

function send(socketPath: string, method: string, path: string, body?: string): Promise<{ status: number; json: { error?: { code: string; message: string }; keys?: string[] } }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as never }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a null, list or non-JSON body is 400 invalid_argument', async (t) => {
  const socket = await startApi(t);
  assert.deepEqual((await send(socket, 'POST', '/v1/echo', '{"target":"x"}')).json, { keys: ['target'] });
  for (const body of ['null', '[]', '"text"', '42', '{not json']) {
    const r = await send(socket, 'POST', '/v1/echo', body);
    assert.equal(r.status, 400, body);
    assert.equal(r.json.error?.code, 'invalid_argument', body);
    assert.match(r.json.error?.message ?? '', /request body (must be a JSON object|is not JSON)/);
  }
});

test('a secret name with a malformed %-escape in the path is 400 invalid_argument', async (t) => {
  const socket = await startApi(t);
  for (const path of ['/v1/secrets/%zz', '/v1/secrets/db%', '/v1/secrets/%E0%A4%A']) {
    const r = await send(socket, 'GET', path);
    assert.equal(r.status, 400, path);
    assert.equal(r.json.error?.code, 'invalid_argument');
    assert.match(r.json.error?.message ?? '', /malformed %-escape/);
  }
  // A well-formed escape still reaches the lookup.
  assert.equal((await send(socket, 'GET', '/v1/secrets/d%62')).json.error?.code, 'not_found');
});
