import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Instance, testInstance } from '../helpers/cli.js';
import { rootSkipReason } from '../helpers/tools.js';

const ROOT_SKIP = rootSkipReason('doctor mounts the noswap tmpfs root, which needs root');

function inst(t: TestContext): Instance {
  return testInstance(t, 'keyway-doctor-');
}

test('keyway doctor on this machine reports the tmpfs noswap mount root as secure', { skip: ROOT_SKIP }, (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 's', '-'], { input: 'x' }).status, 0);
  const r = i.run(['doctor']);
  const out = r.stdout.toString();
  assert.equal(r.status, 0, out + r.stderr.toString());
  assert.match(out, /^secure +mount root: .*tmpfs with noswap/m);
  assert.match(out, /^secure +state dir: /m);
  assert.match(out, /^secure +key file: /m);
  assert.match(out, /^info +selinux: (disabled|enforcing|permissive)/m);
  assert.match(out, /^info +(podman|docker|bwrap): /m);
  assert.match(out, /^verdict: secure\n$/m);
  for (const line of out.trim().split('\n')) assert.match(line, /^((secure|weak|insecure|info) +[^:]+: .+|verdict: (secure|weak|insecure))$/, line);
});

test('a key file readable by others makes doctor insecure and exit non-zero', { skip: ROOT_SKIP }, (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 's', '-'], { input: 'x' }).status, 0);
  chmodSync(join(i.stateDir, 'local.key'), 0o644);
  const r = i.run(['doctor']);
  assert.equal(r.status, 1);
  assert.match(r.stdout.toString(), /^insecure +key file: .*mode 0644/m);
  assert.match(r.stdout.toString(), /^verdict: insecure$/m);
});

test('a socket any local user can connect to is reported insecure', { skip: ROOT_SKIP }, async (t) => {
  const i = inst(t);
  const sock = join(i.dir, 'api.sock');
  i.writeConfig(`[api]\nsocket = "${sock}"\n`);
  const server = createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  t.after(() => server.close());
  chmodSync(sock, 0o666);
  const r = await i.runAsync(['doctor', '--format', 'json']);
  assert.equal(r.status, 1);
  const report = JSON.parse(r.stdout.toString()) as { verdict: string; checks: { name: string; status: string }[] };
  assert.equal(report.verdict, 'insecure');
  assert.equal(report.checks.find((c) => c.name === 'admin API socket')?.status, 'insecure');
  chmodSync(sock, 0o600);
  const ok = await i.runAsync(['doctor', '--format', 'json']);
  assert.equal((JSON.parse(ok.stdout.toString()) as { checks: { name: string; status: string }[] }).checks.find((c) => c.name === 'admin API socket')?.status, 'secure');
});
