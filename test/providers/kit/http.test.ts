import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { httpRequest } from '../../../src/providers/kit/http.js';
import { codeForStatus } from '../../../src/providers/kit/status.js';
import { secretBytes } from '../../../src/providers/kit/values.js';
import { AzureEmulator } from '../../emulators/azure/emulator.js';
import { isCode } from '../../emulators/broker.js';

const REPO = resolve(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);

/** A local HTTP server for one test, closed with it; returns its base URL with a trailing slash. */
async function serve(t: TestContext, handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

test('secretBytes decodes UTF-8 and base64 exactly, whatever the padding or line breaks', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const b64 = Buffer.from(bytes).toString('base64');
      assert.deepEqual(secretBytes(b64, 'base64'), Buffer.from(bytes));
      assert.deepEqual(secretBytes(b64.replace(/=+$/, ''), 'base64'), Buffer.from(bytes));
      assert.deepEqual(secretBytes(b64.replace(/(.{8})/g, '$1\n'), 'base64'), Buffer.from(bytes));
    }),
  );
  assert.deepEqual(secretBytes('pässwörd', 'utf8'), Buffer.from('pässwörd'));
});

test('HTTP statuses without a backend error type map to keyway codes, server errors and 429 to retried ones', () => {
  assert.deepEqual([401, 403, 404, 412, 429, 500, 503, 408, 504, 400, 418].map(codeForStatus), ['unauthenticated', 'permission_denied', 'not_found', 'failed_precondition', 'throttled', 'unavailable', 'unavailable', 'timeout', 'timeout', 'invalid_argument', 'invalid_argument']);
});

test('redirects are not followed, so credentials never travel to another host', async (t) => {
  let hits = 0;
  const url = await serve(t, (req, res) => {
    hits++;
    // The second redirect never ends its body: it is refused on the head, not at the deadline.
    if (req.url === '/endless') res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).write('x');
    else res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
  });
  await assert.rejects(httpRequest({ method: 'GET', url, headers: { authorization: 'Bearer x' }, signal: new AbortController().signal, timeoutMs: 2000, what: 'test' }), isCode('unavailable'));
  assert.equal(hits, 1);
  await assert.rejects(httpRequest({ method: 'GET', url: `${url}endless`, signal: new AbortController().signal, timeoutMs: 2000, what: 'test' }), isCode('unavailable'));
  assert.equal(hits, 2);
});

test('an already aborted signal fails before any connection', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(httpRequest({ method: 'GET', url: 'http://127.0.0.1:1/', signal: ac.signal, timeoutMs: 1000, what: 'test' }), isCode('cancelled'));
  await assert.rejects(httpRequest({ method: 'GET', url: 'http://127.0.0.1:1/', signal: AbortSignal.abort(new DOMException('t', 'TimeoutError')), timeoutMs: 1000, what: 'test' }), isCode('timeout'));
});

test('oversized responses are refused as too_large, declared or streamed', async (t) => {
  const url = await serve(t, (req, res) => {
    if (req.url === '/declared') {
      res.writeHead(200, { 'content-length': String(10_000) });
      res.end(Buffer.alloc(10_000));
      return;
    }
    res.writeHead(200);
    const chunk = Buffer.alloc(1000, 1);
    for (let i = 0; i < 20; i++) res.write(chunk);
    res.end();
  });
  const signal = new AbortController().signal;
  await assert.rejects(httpRequest({ method: 'GET', url: `${url}declared`, signal, timeoutMs: 2000, what: 'test', maxBytes: 4096 }), isCode('too_large'));
  await assert.rejects(httpRequest({ method: 'GET', url: `${url}streamed`, signal, timeoutMs: 2000, what: 'test', maxBytes: 4096 }), isCode('too_large'));
  const ok = await httpRequest({ method: 'GET', url: `${url}streamed`, signal, timeoutMs: 2000, what: 'test' });
  assert.equal(ok.body.length, 20_000);
});

test('a body cut short by the deadline is wiped, not left in the chunks read so far', async (t) => {
  const url = await serve(t, (req, res) => {
    res.writeHead(200);
    res.write('s3cret-partial-body');
  });
  // The same Buffers the transport buffers, seen through node's own response channel.
  const seen: Buffer[] = [];
  let response: IncomingMessage | undefined;
  const onResponse = (m: unknown): void => {
    response = (m as { response: IncomingMessage }).response;
    response.on('data', (c: Buffer) => seen.push(c));
  };
  subscribe('http.client.response.finish', onResponse);
  t.after(() => unsubscribe('http.client.response.finish', onResponse));
  await assert.rejects(httpRequest({ method: 'GET', url, signal: new AbortController().signal, timeoutMs: 300, what: 'test' }), isCode('timeout'));
  const res = response;
  assert.ok(res);
  if (!res.closed) await new Promise((r) => res.once('close', r));
  assert.ok(seen.length > 0);
  assert.ok(seen.every((c) => c.every((b) => b === 0)));
});

test('response headers are read by name in any case, repeated ones joined with a comma as fetch does', async (t) => {
  const url = await serve(t, (req, res) => {
    res.setHeader('WWW-Authenticate', ['Bearer realm="a"', 'PoP nonce="b"']);
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.setHeader('Metadata-Flavor', 'Google');
    res.end();
  });
  const res = await httpRequest({ method: 'GET', url, signal: new AbortController().signal, timeoutMs: 2000, what: 'test' });
  assert.equal(res.header('metadata-flavor'), 'Google');
  assert.equal(res.header('Metadata-Flavor'), 'Google');
  assert.equal(res.header('www-authenticate'), 'Bearer realm="a", PoP nonce="b"');
  assert.equal(res.header('set-cookie'), 'a=1, b=2');
  assert.equal(res.header('x-absent'), undefined);
  assert.equal(res.header('constructor'), undefined);
});

test('a provider round trip over HTTP, 401 challenge header included, does not load undici', async (t) => {
  // Node's global Headers/fetch load undici (several MiB of RSS) on first touch; the transport
  // avoids them. Node's own modules are not seen by a loader hook, so the child reports
  // process.moduleLoadList after a lookup against the emulator.
  const emu = await new AzureEmulator().start();
  t.after(() => emu.stop());
  emu.apps.set('app-1', { secret: 'entra-client-secret-value' });
  emu.setSecret('db-password', 'azure-text-value');
  const dir = mkdtempSync(join(tmpdir(), 'kw-undici-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = join(dir, 'client-secret');
  writeFileSync(secretFile, 'entra-client-secret-value\n', { mode: 0o600 });
  const src = (p: string): string => JSON.stringify(pathToFileURL(join(REPO, 'src', p)).href);
  const script = `
    import { azureKvFactory } from ${src('providers/azure-kv/index.ts')};
    import { AzureKvProvider } from ${src('providers/azure-kv/provider.ts')};
    const config = azureKvFactory.configSchema.parse(${JSON.stringify({ vault_url: emu.url, authority_host: emu.url, verify_challenge_resource: false, timeout_ms: 5000, client_id: 'app-1', client_secret_file: secretFile })});
    const r = await new AzureKvProvider('kv', config, {}).lookup({ path: 'db-password', options: {}, signal: new AbortController().signal });
    process.stdout.write(JSON.stringify({ value: r.expose().toString(), undici: process.moduleLoadList.filter((m) => m.includes('undici')) }));
  `;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO });
  const seen = JSON.parse(stdout) as { value: string; undici: string[] };
  assert.equal(seen.value, 'azure-text-value');
  assert.ok(emu.seen.some((r) => !r.headers.authorization), 'the first request met the challenge');
  assert.deepEqual(seen.undici, []);
});
