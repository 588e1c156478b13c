// The attack on a non-root user's default runtime dir (/tmp/keyway-<uid>/keyway without
// XDG_RUNTIME_DIR): another local user creates /tmp/keyway-<uid> first, world-writable, and serves
// their own lookup socket in it. keyway must refuse that directory and create nothing in it, and
// Podman's lookup client must not take an answer from a socket another user owns.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ensureBuilt, REPO } from '../../helpers/cli.js';
import { localUser, runAs, type LocalUser } from '../../helpers/unprivileged.js';
import { rootSkipReason } from '../../helpers/tools.js';

const ROOT_SKIP = rootSkipReason('needs root to create and act as other users');
const CLIENT = join(REPO, 'bin', 'keyway-podman-lookup');
const PAYLOAD = 'attacker-chosen-value';

// A lookup server that answers every request with the attacker's payload.
const FAKE_SERVER = `
const net = require('node:net');
const body = Buffer.from(${JSON.stringify(PAYLOAD)});
net.createServer((s) => s.once('data', () => s.end(Buffer.concat([Buffer.from('ok ' + body.length + '\\n'), body])))).listen(process.argv[1], () => {
  require('node:fs').chmodSync(process.argv[1], 0o777);
  process.stdout.write('ready\\n');
});
`;

async function serveAs(t: TestContext, user: LocalUser, socket: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', FAKE_SERVER, socket], { uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    child.kill('SIGKILL');
  });
  await once(child.stdout, 'data');
}

/** A home and state dir owned by `user` (not in the planted dir). */
function homeOf(t: TestContext, user: LocalUser): string {
  const home = mkdtempSync(join(tmpdir(), 'keyway-home-'));
  chownSync(home, user.uid, user.gid);
  chmodSync(home, 0o711);
  t.after(() => rmSync(home, { recursive: true, force: true }));
  return home;
}

function plantedDir(t: TestContext, victim: LocalUser, attacker: LocalUser): string {
  const planted = join('/tmp', `keyway-${victim.uid}`);
  rmSync(planted, { recursive: true, force: true });
  t.after(() => rmSync(planted, { recursive: true, force: true }));
  const r = runAs(attacker, 'mkdir', ['-p', join(planted, 'keyway')]);
  assert.equal(r.status, 0, r.stderr);
  chmodSync(planted, 0o777);
  chmodSync(join(planted, 'keyway'), 0o777);
  return planted;
}

void test('a non-root user whose /tmp/keyway-<uid> was planted by another user is refused, and nothing is created inside it', { skip: ROOT_SKIP }, (t) => {
  ensureBuilt();
  const victim = localUser('keyway-victim');
  const attacker = localUser('keyway-attacker');
  const planted = plantedDir(t, victim, attacker);
  const home = homeOf(t, victim);
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LC_ALL: 'C' };
  for (const args of [['run', '--', 'true'], ['serve']]) {
    const r = runAs(victim, process.execPath, [CLI, ...args], { env, cwd: home });
    assert.notEqual(r.status, 0, `keyway ${args[0]} must refuse`);
    assert.match(r.stderr, new RegExp(`runtime dir ${planted}/keyway: ${planted} is owned by uid ${attacker.uid}, so that user can replace what is inside it; fix:`), r.stderr);
  }
  assert.deepEqual(readdirSync(planted), ['keyway']);
  assert.deepEqual(readdirSync(join(planted, 'keyway')), [], 'nothing created in the planted dir');
  // doctor says so too, and sets nothing up there.
  const d = runAs(victim, process.execPath, [CLI, 'doctor'], { env, cwd: home });
  assert.equal(d.status, 1);
  assert.match(d.stdout, new RegExp(`^insecure +runtime dir: .*${planted} is owned by uid ${attacker.uid}`, 'm'));
  assert.match(d.stdout, /^insecure +mount root: not set up/m);
  assert.deepEqual(readdirSync(join(planted, 'keyway')), []);
});

void test('the podman lookup client refuses a socket another user owns and never prints their answer', { skip: ROOT_SKIP }, async (t) => {
  const victim = localUser('keyway-victim');
  const attacker = localUser('keyway-attacker');
  const planted = plantedDir(t, victim, attacker);
  const socket = join(planted, 'keyway', 'podman-lookup.sock');
  await serveAs(t, attacker, socket);
  const home = homeOf(t, victim);
  const lookup = (sock: string): { status: number | null; stdout: string; stderr: string } =>
    runAs(victim, 'perl', [CLIENT, sock, join(home, 'state'), '--', '/bin/echo', 'fell back'], { env: { PATH: '/usr/bin:/bin', SECRET_ID: 'abc123' } });
  const r = lookup(socket);
  assert.equal(r.status, 1);
  assert.doesNotMatch(r.stdout, new RegExp(PAYLOAD));
  assert.match(r.stderr, new RegExp(`refusing lookup socket ${socket}: ${planted} is owned by uid ${attacker.uid}`));

  // A socket of the attacker's in the victim's own private dir: refused for its owner.
  const own = join(home, 'run');
  mkdirSync(own, { mode: 0o700 });
  chownSync(own, victim.uid, victim.gid);
  const ownSocket = join(own, 'podman-lookup.sock');
  chmodSync(own, 0o777);
  await serveAs(t, attacker, ownSocket);
  chmodSync(own, 0o700);
  const r2 = lookup(ownSocket);
  assert.equal(r2.status, 1);
  assert.doesNotMatch(r2.stdout, new RegExp(PAYLOAD));
  assert.match(r2.stderr, new RegExp(`refusing lookup socket ${ownSocket}: it is owned by uid ${attacker.uid}, not root or uid ${victim.uid}`));

  // The same server run by the victim in their own dir is trusted (the check is not a blanket refusal).
  rmSync(ownSocket);
  await serveAs(t, victim, ownSocket);
  const ok = lookup(ownSocket);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, PAYLOAD);
  // With no socket at all, the client falls back to the in-process lookup.
  assert.equal(existsSync(join(own, 'none.sock')), false);
  assert.equal(lookup(join(own, 'none.sock')).stdout, 'fell back\n');
});
