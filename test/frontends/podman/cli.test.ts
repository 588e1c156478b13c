// The shell-driver commands as Podman runs them: /bin/sh -c with SECRET_ID in the environment,
// using exactly the strings `keyway podman driver-opts` prints.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CLI, REPO, makeInstance, type Instance, testInstance } from '../../helpers/cli.js';
import { driverOpts, runDriverCommand } from '../../helpers/shell-driver.js';

const ID = '0123456789abcdef012345678';
const ID2 = 'fedcba9876543210fedcba987';
const BINARY = Buffer.from([0, 10, 0, 255, 13, 10]);

function inst(t: { after: (fn: () => void) => void }): Instance {
  return testInstance(t, 'keyway-podman-cli-');
}

/** Runs one driver command the way Podman's shell driver does. */
const sh = (cmd: string, id: string | undefined, input: Buffer | string = '') => runDriverCommand(cmd, { id, input });

before(() => makeInstance().cleanup());

test('driver-opts names the four commands with the absolute node, script and directories in effect', (t) => {
  const i = inst(t);
  const r = i.run(['podman', 'driver-opts']);
  assert.equal(r.status, 0, r.stderr.toString());
  const o = driverOpts(r.stdout.toString());
  assert.deepEqual(Object.keys(o), ['list', 'lookup', 'store', 'delete']);
  for (const op of ['list', 'store', 'delete']) {
    assert.equal(o[op], `exec '${process.execPath}' '${CLI}' '--config' '${i.configPath}' '--state-dir' '${i.stateDir}' '--runtime-dir' '${i.runtimeDir}' 'podman' '${op}'`);
  }
  // The lookup: the fast client first, then the lean in-process entry with the same directories.
  const lean = `'${process.execPath}' '${REPO}/dist/cli/podman-lookup.js' '--config' '${i.configPath}' '--state-dir' '${i.stateDir}' '--runtime-dir' '${i.runtimeDir}'`;
  assert.equal(o.lookup, `exec '/usr/bin/perl' '${REPO}/bin/keyway-podman-lookup' '${i.runtimeDir}/podman-lookup.sock' '${i.stateDir}' '--' ${lean}`);
  const slow = driverOpts(i.run(['podman', 'driver-opts', '--no-fast-lookup']).stdout.toString());
  assert.equal(slow.lookup, `exec ${lean}`);
});

test('driver-opts refuses a directory with a comma, which Podman would split', (t) => {
  const i = inst(t);
  const r = i.run(['--state-dir', join(i.dir, 'a,b'), 'podman', 'driver-opts']);
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /^keyway: invalid_argument: cannot build --driver-opts: ".*a,b" contains a comma/);
});

test('the commands work through /bin/sh -c even when the state dir holds a space and a quote', (t) => {
  const i = inst(t);
  const odd = join(i.dir, "it's a dir");
  mkdirSync(odd);
  const o = driverOpts(i.run(['--state-dir', odd, 'podman', 'driver-opts']).stdout.toString());
  const st = sh(o.store ?? '', ID, BINARY);
  assert.equal(st.status, 0, st.stderr.toString());
  assert.equal(st.stdout.length, 0, 'store prints nothing on stdout');
  assert.ok(existsSync(join(odd, 'keyway.db')));
  const lk = sh(o.lookup ?? '', ID);
  assert.equal(lk.status, 0, lk.stderr.toString());
  assert.deepEqual(lk.stdout, BINARY, 'exact bytes, no added newline');
  assert.equal(sh(o.list ?? '', undefined).stdout.toString(), `${ID}\n`);
  assert.equal(sh(o.delete ?? '', ID).status, 0);
  assert.equal(sh(o.list ?? '', undefined).stdout.toString(), '');
});

test('store refuses empty and oversized data and a broken reference, and keeps nothing', (t) => {
  const i = inst(t);
  const o = driverOpts(i.run(['podman', 'driver-opts']).stdout.toString());
  const cases: [Buffer | string, number, RegExp][] = [
    ['', 2, /^keyway: invalid_argument: .*empty/],
    [Buffer.alloc(512000, 1), 1, /^keyway: too_large: /],
    ['ref+local://a b\n', 2, /^keyway: invalid_argument: reference: path contains a control character or space/],
    ['ref+nope://x', 3, /^keyway: not_found: .*no provider named "nope"/],
  ];
  for (const [input, code, re] of cases) {
    const r = sh(o.store ?? '', ID, input);
    assert.equal(r.status, code, r.stderr.toString());
    assert.match(r.stderr.toString(), re);
    assert.equal(r.stdout.length, 0);
  }
  assert.equal(sh(o.list ?? '', undefined).stdout.toString(), '');
  assert.equal(sh(o.store ?? '', ID, Buffer.alloc(511999, 2)).status, 0);
});

test('delete fails for an empty id (Podman\'s --replace bug), an unknown id and a path-like id', (t) => {
  const i = inst(t);
  const o = driverOpts(i.run(['podman', 'driver-opts']).stdout.toString());
  assert.equal(sh(o.store ?? '', ID, 'v').status, 0);
  const empty = sh(o.delete ?? '', '');
  assert.equal(empty.status, 2);
  assert.match(empty.stderr.toString(), /^keyway: invalid_argument: SECRET_ID is empty/);
  assert.equal(sh(o.delete ?? '', undefined).status, 2);
  const unknown = sh(o.delete ?? '', ID2);
  assert.equal(unknown.status, 3);
  assert.match(unknown.stderr.toString(), /^keyway: not_found: no podman secret/);
  assert.equal(sh(o.delete ?? '', '../../etc').status, 2);
  assert.equal(sh(o.lookup ?? '', '..').status, 2);
  assert.equal(sh(o.list ?? '', undefined).stdout.toString(), `${ID}\n`, 'the stored secret is untouched');
});

test('the fast lookup client answers from the daemon, and falls back to keyway for another store or no daemon', async (t) => {
  const i = inst(t);
  const o = driverOpts(i.run(['podman', 'driver-opts']).stdout.toString());
  assert.equal(sh(o.store ?? '', ID, BINARY).status, 0);
  const client = join(REPO, 'bin', 'keyway-podman-lookup');
  const sock = join(i.runtimeDir, 'podman-lookup.sock');
  const marker = join(i.dir, 'fallback-ran');
  // A fallback that only leaves a mark shows which path answered.
  const fallback = ['/bin/sh', '-c', `: > '${marker}'; exit 42`];
  const viaClient = (stateDir: string, id = ID) => spawnSync('/usr/bin/perl', [client, sock, stateDir, '--', ...fallback], { env: { SECRET_ID: id } });

  const none = viaClient(i.stateDir);
  assert.equal(none.status, 42, 'no daemon: falls back');
  assert.ok(existsSync(marker));

  const child = spawn(process.execPath, [CLI, 'serve'], { env: i.env, stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  for (let k = 0; k < 200 && !existsSync(sock); k++) await new Promise((r) => setTimeout(r, 50));
  const st = lstatSync(sock);
  assert.ok(st.isSocket());
  assert.equal(st.mode & 0o777, 0o600, 'the lookup socket is private to the daemon\'s user');
  assert.equal(st.uid, process.geteuid?.());
  rmSync(marker);
  const fast = viaClient(i.stateDir);
  assert.equal(fast.status, 0, fast.stderr.toString());
  assert.deepEqual(fast.stdout, BINARY);
  assert.ok(!existsSync(marker), 'answered by the daemon');
  const missing = viaClient(i.stateDir, ID2);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr.toString(), /^keyway: not_found: no podman secret fedcba9876543210fedcba987 in keyway\n$/);
  assert.ok(!existsSync(marker));
  const other = viaClient(join(i.dir, 'another-state'));
  assert.equal(other.status, 42, 'a daemon of another state dir is not trusted to answer');
  assert.ok(existsSync(marker));
  // A malformed request gets a clear error line, not a hang or a crash of the daemon.
  const raw = await new Promise<string>((res, rej) => {
    const c = connect(sock);
    let got = '';
    c.on('data', (d: Buffer) => (got += d.toString()));
    c.on('end', () => res(got));
    c.on('error', rej);
    c.end('lookup ../../etc/passwd 00\n');
  });
  assert.equal(raw, 'err invalid_argument malformed lookup request\n');
  // And the real command line from driver-opts, through /bin/sh -c.
  const real = sh(o.lookup ?? '', ID);
  assert.equal(real.status, 0, real.stderr.toString());
  assert.deepEqual(real.stdout, BINARY);
  const exited = new Promise((res) => child.on('exit', res));
  child.kill('SIGTERM');
  await exited;
});
