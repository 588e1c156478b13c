import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatReport, kernelSupportsNoswap, socketCheck } from '../../src/delivery/doctor.js';

test('kernelSupportsNoswap is true from 6.4 on', () => {
  assert.equal(kernelSupportsNoswap('6.3.9-arch1'), false);
  assert.equal(kernelSupportsNoswap('6.4.0'), true);
  assert.equal(kernelSupportsNoswap('6.18.44-fc'), true);
  assert.equal(kernelSupportsNoswap('7.0.1'), true);
  assert.equal(kernelSupportsNoswap('5.15.0-91-generic'), false);
  assert.equal(kernelSupportsNoswap('garbage'), false);
});

test('formatReport prints one line per check and the verdict last', () => {
  const text = formatReport({ checks: [{ name: 'mount root', status: 'weak', detail: 'tmpfs without noswap' }, { name: 'bwrap', status: 'info', detail: 'not installed' }], verdict: 'weak' });
  assert.equal(text, 'weak     mount root: tmpfs without noswap\ninfo     bwrap: not installed\nverdict: weak\n');
});

test('a socket is secure at 0600, and at 0660 with group root (keyway.socket\'s default); other groups are weak and others insecure', { skip: process.geteuid?.() === 0 ? false : 'SKIPPED: needs root to chown a socket to group root and another group' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-doctor-sock-'));
  const path = join(dir, 's.sock');
  const server = createServer();
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const grade = (mode: number, gid: number): string => {
    chmodSync(path, mode);
    chownSync(path, 0, gid);
    return socketCheck('docker', path).status;
  };
  assert.equal(grade(0o600, 0), 'secure');
  assert.equal(grade(0o660, 0), 'secure');
  assert.equal(grade(0o660, 1234), 'weak');
  assert.equal(grade(0o666, 0), 'insecure');
  assert.equal(socketCheck('docker', join(dir, 'absent.sock')).status, 'info');
});
