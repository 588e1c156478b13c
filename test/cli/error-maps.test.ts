// Every wire format keyway speaks maps every error code, in one table each. The tables are typed
// Record<ErrorCode, …>, so a new code does not compile until each handles it; these tests check the
// same at run time and keep the Perl copy of the exit codes in bin/keyway-podman-lookup equal to
// the CLI's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { ERROR_CODES, KeywayError, type ErrorCode } from '../../src/core/errors.js';
import { EXIT_CODES, EXIT_FAILED, EXIT_NOT_FOUND, EXIT_USAGE, reportError } from '../../src/cli/exit.js';
import { HTTP_STATUS } from '../../src/frontends/api/server.js';
import { GRPC_STATUS, toServiceError } from '../../src/frontends/csi/status.js';
import { PLUGIN_HTTP_STATUS, wireError } from '../../src/frontends/docker-volume/wire.js';
import { FROM_PLUGIN_CODE, responseError } from '../../src/plugins/protocol.js';
import type { ErrorCode as SdkErrorCode } from '../../packages/plugin-sdk/src/index.js';

const REPO = join(import.meta.dirname, '..', '..');
const sorted = (keys: readonly string[]): string[] => [...keys].sort();

const MAPS: Record<string, Readonly<Record<ErrorCode, unknown>>> = {
  'CLI exit codes (src/cli/exit.ts)': EXIT_CODES,
  'admin API HTTP statuses (src/frontends/api/server.ts)': HTTP_STATUS,
  'Docker plugin HTTP statuses (src/frontends/docker-volume/wire.ts)': PLUGIN_HTTP_STATUS,
  'CSI gRPC statuses (src/frontends/csi/status.ts)': GRPC_STATUS,
  'plugin protocol codes (src/plugins/protocol.ts)': FROM_PLUGIN_CODE,
};

test('every wire map has exactly one entry per error code', () => {
  for (const [name, map] of Object.entries(MAPS)) {
    assert.deepEqual(sorted(Object.keys(map)), sorted(ERROR_CODES), name);
    for (const code of ERROR_CODES) assert.notEqual(map[code], undefined, `${name}: ${code}`);
  }
});

test('the CLI exit status, admin API status, Docker plugin status and gRPC status follow the tables', () => {
  const lines: string[] = [];
  for (const code of ERROR_CODES) {
    const err = new KeywayError(code, 'what failed');
    assert.equal(reportError(err, (s) => lines.push(s)), EXIT_CODES[code]);
    assert.deepEqual(wireError(err), { status: PLUGIN_HTTP_STATUS[code], body: { Err: `keyway: ${code}: what failed` } });
    assert.equal(toServiceError(err).code, GRPC_STATUS[code]);
  }
  assert.deepEqual(lines, ERROR_CODES.map((c) => `keyway: ${c}: what failed\n`));
  // The documented values (docs/cli.md, docs/architecture.md).
  assert.equal(EXIT_CODES.not_found, EXIT_NOT_FOUND);
  assert.equal(EXIT_CODES.invalid_argument, EXIT_USAGE);
  assert.equal(EXIT_CODES.internal, EXIT_FAILED);
  assert.deepEqual([HTTP_STATUS.invalid_argument, HTTP_STATUS.unauthenticated, HTTP_STATUS.not_found, HTTP_STATUS.already_exists, HTTP_STATUS.too_large, HTTP_STATUS.throttled, HTTP_STATUS.timeout, HTTP_STATUS.internal], [400, 403, 404, 409, 413, 503, 504, 500]);
  assert.deepEqual([PLUGIN_HTTP_STATUS.invalid_argument, PLUGIN_HTTP_STATUS.not_found], [400, 500]);
  assert.deepEqual([GRPC_STATUS.unavailable, GRPC_STATUS.throttled, GRPC_STATUS.checksum_mismatch], [status.UNAVAILABLE, status.RESOURCE_EXHAUSTED, status.DATA_LOSS]);
});

// The codes a plugin written with the SDK may throw: the type and this list must agree.
const SDK_CODES = ['not_found', 'permission_denied', 'invalid_argument', 'unavailable', 'unauthenticated', 'throttled', 'timeout', 'too_large', 'unsupported', 'failed_precondition', 'internal'] as const satisfies readonly SdkErrorCode[];
type Missing = Exclude<SdkErrorCode, (typeof SDK_CODES)[number]>;
const noneMissing: [Missing] extends [never] ? true : false = true;

test('a plugin keeps exactly the codes the plugin SDK lets it send; the rest and unknown strings become internal', () => {
  assert.ok(noneMissing);
  const kept = ERROR_CODES.filter((c) => FROM_PLUGIN_CODE[c] === c);
  assert.deepEqual(sorted(kept), sorted(SDK_CODES));
  for (const code of ERROR_CODES) {
    const err = responseError('p', { v: 1, id: '1', ok: false, error: { code, message: 'm' } });
    assert.equal(err.code, kept.includes(code) ? code : 'internal', code);
  }
  assert.equal(responseError('p', { v: 1, id: '1', ok: false, error: { code: 'no_such_code', message: 'm' } }).code, 'internal');
});

async function listen(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
}

test('the Podman lookup client exits with the CLI exit status of every code the daemon answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-exit-map-'));
  const socket = join(dir, 'lookup.sock');
  let answer = 'internal';
  const server = createServer((s) => s.once('data', () => s.end(`err ${answer} what failed\n`)));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await listen(server, socket);
  for (const code of ERROR_CODES) {
    answer = code;
    // The fallback (what runs when no daemon answers) exits 99, so a fallback cannot pass for a mapping.
    const r = await promisify(execFile)(join(REPO, 'bin', 'keyway-podman-lookup'), [socket, '/state', '--', 'sh', '-c', 'exit 99'], { env: { SECRET_ID: 'abc' } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    assert.equal(r.code, EXIT_CODES[code], `${code}: ${r.stderr}`);
    assert.equal(r.stderr, `keyway: ${code}: what failed\n`);
  }
});
