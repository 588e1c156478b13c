import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeRootlessUser, rootlessSkipReason, type RootlessUser } from '../../helpers/rootless.js';

const SKIP = rootlessSkipReason() ?? false;
let user: RootlessUser;
let serve: ChildProcess | undefined;

before(() => {
  if (SKIP === false) user = makeRootlessUser();
});
after(async () => {
  if (serve && serve.exitCode === null) {
    const exited = once(serve, 'exit');
    serve.kill('SIGTERM');
    await exited;
  }
  user?.cleanup();
});

interface Report {
  checks: { name: string; status: string; detail: string }[];
  verdict: string;
}

function doctor(args: readonly string[] = [], prefix: readonly string[] = []): Report {
  const r = prefix.length > 0 ? user.run(prefix[0] ?? '', [...prefix.slice(1), process.execPath, user.cli, 'doctor', '--format', 'json', ...args]) : user.keyway(['doctor', '--format', 'json', ...args]);
  return JSON.parse(r.stdout.toString()) as Report;
}

const check = (r: Report, name: string): { status: string; detail: string } => {
  const c = r.checks.find((x) => x.name === name);
  assert.ok(c, `${name} in ${JSON.stringify(r.checks.map((x) => x.name))}`);
  return c;
};

test('keyway doctor as a limited user reports user namespaces, a ramfs run root, and whether serve joined rootless Podman', { skip: SKIP }, async () => {
  const first = doctor();
  assert.equal(check(first, 'user namespaces').status, 'info');
  const runRoot = check(first, 'mount root (keyway run)');
  assert.equal(runRoot.status, 'secure', runRoot.detail);
  assert.match(runRoot.detail, /(ramfs|tmpfs) in a private user namespace/);
  assert.match(check(first, 'podman namespace (keyway serve)').detail, /^not joined/);
  assert.equal(first.checks.some((c) => c.name === 'mount root'), false, "the host namespace's plain directory is not what delivery uses");

  let log = '';
  serve = user.spawnKeyway(['serve']);
  serve.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  serve.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  const end = Date.now() + 30_000;
  while (!(log.includes('keyway serving') && existsSync(join(user.runtimeDir, 'docker.sock')))) {
    if (Date.now() > end) throw new Error(`keyway serve did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const pm = check(doctor(), 'podman namespace (keyway serve)');
  assert.equal(pm.status, 'secure', pm.detail);
  assert.match(pm.detail, /^joined rootless Podman's namespace \(pause pid \d+\): .* is ramfs/);
});

test('keyway doctor as a limited user without user namespaces classifies the runtime-dir tmpfs as weak and names the setting', { skip: SKIP }, () => {
  const r = doctor([], ['bwrap', '--unshare-user', '--disable-userns', '--bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--']);
  const ns = check(r, 'user namespaces');
  assert.equal(ns.status, 'weak');
  assert.match(ns.detail, /user\.max_user_namespaces/);
  assert.equal(check(r, 'mount root').status, 'weak', 'a plain tmpfs: swappable');
  assert.equal(r.verdict, 'weak');
});
