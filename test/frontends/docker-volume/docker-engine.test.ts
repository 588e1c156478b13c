// Acceptance against a real dockerd (private, vfs, no network) and the real `keyway serve`:
// volumes deliver exact bytes with the requested mode/owner from a noswap tmpfs, one mount set per
// container, wiped when the container goes; bad input shows keyway's message in the docker CLI;
// volumes survive restarts of keyway and of dockerd; Swarm services read keyway secrets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerSkipReason, holdPort, startDockerd, type Dockerd } from '../../helpers/dockerd.js';
import { imageSkipReason, importDockerImage } from '../../helpers/images.js';
import { keywayPlugin, type KeywayPlugin } from './keyway-serve.js';
import { scanFor } from '../../helpers/cli.js';
import { mountAt } from '../../../src/delivery/mountinfo.js';
import { classifyMount } from '../../../src/delivery/protection.js';

const skip = dockerSkipReason() || imageSkipReason();
if (skip) console.error(`docker-engine tests ${skip}`);

// Binary content: every byte value, NUL and newline included.
const DB = Buffer.concat([Buffer.from([0, 10, 13, 255]), randomBytes(300), Buffer.from([0])]);
let d: Dockerd;
let kw: KeywayPlugin;
let img: string;
let driver: string;

function ok(r: { status: number | null; stderr: string }, what: string): void {
  assert.equal(r.status, 0, `${what} failed: ${r.stderr}\n--- keyway log ---\n${kw.logs().slice(-3000)}`);
}

/** Mount-set directories currently on keyway's mount root. */
function liveSets(): string[] {
  const root = join(kw.instance.runtimeDir, 'mounts');
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((e) => !e.startsWith('.'));
}

async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  if (skip) return;
  d = await startDockerd();
  // Rotation checks every second, so a running container's directory volume follows a replaced secret.
  kw = keywayPlugin({ config: '[delivery]\nrefresh_interval_s = 1\n' });
  driver = kw.name;
  await kw.start();
  img = importDockerImage(d.env);
  const run = kw.instance.run.bind(kw.instance);
  ok({ ...run(['secret', 'create', 'db', '-'], { input: DB }), stderr: '' }, 'secret create db');
  for (const [n, v] of [['a', 'alpha'], ['b', 'bravo'], ['swarmy', 'swarm-bytes\u0000\n']] as const) {
    const r = run(['secret', 'create', n, '-'], { input: v });
    assert.equal(r.status, 0, String(r.stderr));
  }
});

after(async () => {
  if (skip) return;
  d?.removeContainers();
  await d?.stop();
  await kw?.cleanup();
});

test('docker run with a named secret as volume prints its exact bytes and leaves no mount set behind', { skip }, () => {
  const r = d.docker(['run', '--rm', '--network', 'none', '--volume-driver', driver, '-v', 'db:/run/secrets/db', img, 'cat', '/run/secrets/db']);
  ok(r, 'docker run');
  assert.deepEqual(r.stdout, DB);
  assert.deepEqual(liveSets(), []);
});

test('inside the container the file has the requested mode and owner, and the host copy is on a noswap tmpfs until the container goes', { skip }, async (t) => {
  ok(d.docker(['volume', 'create', '-d', driver, '-o', 'secret=db', '-o', 'mode=0440', '-o', 'uid=1234', '-o', 'gid=2345', 'dbo']), 'volume create');
  const c = d.docker(['run', '-d', '--network', 'none', '-v', 'dbo:/run/secrets/db', img, 'sleep', '300']);
  ok(c, 'docker run -d');
  const id = String(c.stdout).trim();
  t.after(() => void d.docker(['rm', '-f', id]));
  const st = d.docker(['exec', id, 'stat', '-c', '%a %u %g %F', '/run/secrets/db']);
  ok(st, 'stat');
  assert.equal(String(st.stdout).trim(), '440 1234 2345 regular file');
  assert.deepEqual(d.docker(['exec', id, 'cat', '/run/secrets/db']).stdout, DB);
  assert.equal(liveSets().length, 1);
  const root = mountAt(join(kw.instance.runtimeDir, 'mounts'));
  assert.ok(root, 'the mount root is a mount point');
  assert.equal(classifyMount(root).protection, 'secure', `mount root is ${root.fsType} ${root.superOptions.join(',')}`);
  if (root.fsType === 'tmpfs') assert.ok([...root.mountOptions, ...root.superOptions].includes('noswap'), 'tmpfs is mounted noswap');
  const mp = String(d.docker(['volume', 'inspect', '--format', '{{.Mountpoint}}', 'dbo']).stdout).trim();
  assert.ok(mp.startsWith(join(kw.instance.runtimeDir, 'mounts') + '/'), `volume mountpoint ${mp}`);
  ok(d.docker(['rm', '-f', id]), 'docker rm');
  await waitFor(() => liveSets().length === 0, 'the mount set to be wiped');
});

test('two containers on one volume get their own mount sets and stopping one leaves the other readable', { skip }, async () => {
  const ids = [0, 1].map(() => {
    const c = d.docker(['run', '-d', '--network', 'none', '--volume-driver', driver, '-v', 'db:/run/secrets/db', img, 'sleep', '300']);
    ok(c, 'docker run -d');
    return String(c.stdout).trim();
  });
  assert.equal(liveSets().length, 2);
  ok(d.docker(['rm', '-f', ids[0] as string]), 'docker rm');
  await waitFor(() => liveSets().length === 1, 'one mount set to remain');
  assert.deepEqual(d.docker(['exec', ids[1] as string, 'cat', '/run/secrets/db']).stdout, DB);
  ok(d.docker(['rm', '-f', ids[1] as string]), 'docker rm');
  await waitFor(() => liveSets().length === 0, 'the mount sets to be wiped');
});

test('a secrets=a,b volume mounts a directory holding both files', { skip }, () => {
  ok(d.docker(['volume', 'create', '-d', driver, '-o', 'secrets=a,b', 'multi']), 'volume create');
  const r = d.docker(['run', '--rm', '--network', 'none', '-v', 'multi:/run/s', img, 'sh', '-c', 'ls /run/s; cat /run/s/a /run/s/b']);
  ok(r, 'docker run');
  assert.equal(String(r.stdout), 'a\nb\nalphabravo');
  // With uid/gid the directory belongs to that user, so a non-root container user can read it.
  ok(d.docker(['volume', 'create', '-d', driver, '-o', 'secrets=a,b', '-o', 'uid=1000', '-o', 'gid=1000', 'multiu']), 'volume create');
  const u = d.docker(['run', '--rm', '--network', 'none', '--user', '1000:1000', '-v', 'multiu:/run/s', img, 'sh', '-c', 'stat -L -c "%a %u %g" /run/s/b; cat /run/s/b']);
  ok(u, 'docker run as uid 1000');
  assert.equal(String(u.stdout), '400 1000 1000\nbravo');
});

test('bad input shows keyway\'s clear message in the docker CLI and keyway keeps serving', { skip }, () => {
  const opt = d.docker(['volume', 'create', '-d', driver, '-o', 'colour=red', 'bad1']);
  assert.notEqual(opt.status, 0);
  assert.match(opt.stderr, /keyway: invalid_argument: unknown volume option "colour"/);
  for (const name of ['a/b', '..']) {
    const r = d.docker(['volume', 'create', '-d', driver, name]);
    assert.notEqual(r.status, 0, `volume name ${name} was accepted`);
    assert.match(r.stderr, /keyway: invalid_argument: volume name/, `volume name ${name}: ${r.stderr}`);
  }
  const missing = d.docker(['run', '--rm', '--network', 'none', '--volume-driver', driver, '-v', 'nosuch:/x', img, 'true']);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /keyway: not_found: no volume or named secret "nosuch"/);
  // A provider typo fails docker volume create itself, not the first container start.
  const typo = d.docker(['volume', 'create', '-d', driver, '-o', 'ref=ref+nosuchprovider://x/y', 'ptypo']);
  assert.notEqual(typo.status, 0);
  assert.match(typo.stderr, /keyway: not_found: no provider named "nosuchprovider"/);
  // A value that is missing only at mount time fails the container start with keyway's message.
  ok(d.docker(['volume', 'create', '-d', driver, '-o', 'ref=ref+local://nosuchblob', 'perr']), 'volume create perr');
  const perr = d.docker(['run', '--rm', '--network', 'none', '-v', 'perr:/x', img, 'true']);
  assert.notEqual(perr.status, 0);
  assert.match(perr.stderr, /keyway: not_found: local: no stored value "nosuchblob"/);
  assert.deepEqual(liveSets(), []);
  const good = d.docker(['run', '--rm', '--network', 'none', '-v', 'multi:/run/s', img, 'cat', '/run/s/a']);
  ok(good, 'docker run after errors');
  assert.equal(String(good.stdout), 'alpha');
});

test('volumes survive a restart of keyway (running containers keep their secret) and of dockerd', { skip }, async () => {
  const c = d.docker(['run', '-d', '--network', 'none', '-v', 'dbo:/run/secrets/db', img, 'sleep', '300']);
  ok(c, 'docker run -d');
  const id = String(c.stdout).trim();
  ok({ ...kw.instance.run(['secret', 'create', 'rot', '-'], { input: 'before' }), stderr: '' }, 'secret create rot');
  ok(d.docker(['volume', 'create', '-d', driver, '-o', 'secrets=rot,b', 'rotdir']), 'volume create rotdir');
  const dirC = d.docker(['run', '-d', '--network', 'none', '-v', 'rotdir:/run/s', img, 'sleep', '300']);
  ok(dirC, 'docker run -d (directory volume)');
  const dirId = String(dirC.stdout).trim();
  await kw.stop();
  await kw.start();
  // Rotation reaches mounts adopted from the previous keyway process, not only new ones.
  ok({ ...kw.instance.run(['secret', 'create', 'rot', '--replace', '-'], { input: 'after' }), stderr: '' }, 'secret create --replace');
  await waitFor(() => String(d.docker(['exec', dirId, 'cat', '/run/s/rot']).stdout) === 'after', 'the container started before the restart to see the rotated value');
  ok(d.docker(['rm', '-f', dirId]), 'docker rm (directory volume)');
  const ls = d.docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
  ok(ls, 'volume ls');
  for (const v of ['dbo', 'multi']) assert.ok(String(ls.stdout).split('\n').includes(`${driver} ${v}`), `volume ls lists ${v}:\n${String(ls.stdout)}`);
  const insp = d.docker(['volume', 'inspect', '--format', '{{.Status.Kind}} {{.Status.Source}}', 'multi']);
  ok(insp, 'volume inspect');
  assert.equal(String(insp.stdout).trim(), 'directory a,b');
  assert.deepEqual(d.docker(['exec', id, 'cat', '/run/secrets/db']).stdout, DB, 'the running container still reads its secret');
  ok(d.docker(['rm', '-f', id]), 'docker rm');
  await waitFor(() => liveSets().length === 0, 'the adopted mount set to be wiped on Unmount');
  await d.restart();
  const ls2 = d.docker(['volume', 'ls', '--format', '{{.Name}}']);
  ok(ls2, 'volume ls after dockerd restart');
  for (const v of ['dbo', 'multi']) assert.ok(String(ls2.stdout).split('\n').includes(v), `after a dockerd restart volume ls lists ${v}`);
  const r = d.docker(['run', '--rm', '--network', 'none', '-v', 'dbo:/run/secrets/db', img, 'cat', '/run/secrets/db']);
  ok(r, 'docker run after restarts');
  assert.deepEqual(r.stdout, DB);
});

test('no plaintext copy of a volume secret is left in docker\'s or keyway\'s directories', { skip }, () => {
  assert.deepEqual(scanFor([d.dir, kw.instance.stateDir, kw.instance.runtimeDir], DB), []);
});

test('a swarm service reads the exact bytes of a keyway secret driver secret, with the default swarm port 2377 taken', { skip }, async () => {
  // Another Swarm manager on the machine holds 2377; the private dockerd's swarm must not need it.
  const squatter = await holdPort(2377);
  const out = mkdtempSync(join(tmpdir(), 'kw-swarm-out-'));
  try {
    ok(await d.swarmInit(), 'swarm init');
    ok(d.docker(['secret', 'create', '--driver', driver, 'swarmy']), 'secret create');
    ok(d.docker(['secret', 'create', '--driver', driver, '--label', 'keyway.secret=a', 'viaLabel']), 'secret create with label');
    const svc = d.docker([
      'service', 'create', '--detach', '--name', 'kwsvc', '--restart-condition', 'none',
      '--secret', 'swarmy', '--secret', 'viaLabel', '--mount', `type=bind,src=${out},dst=/out`,
      img, 'sh', '-c', 'cat /run/secrets/swarmy > /out/got.tmp && mv /out/got.tmp /out/got && cat /run/secrets/viaLabel > /out/label.tmp && mv /out/label.tmp /out/label; sleep 300',
    ]);
    ok(svc, 'service create');
    await waitFor(() => existsSync(join(out, 'label')), 'the service task to read its secrets', 60_000).catch((e: unknown) => {
      const ps = d.docker(['service', 'ps', '--no-trunc', 'kwsvc']);
      throw new Error(`${String(e)}\n${String(ps.stdout)}${ps.stderr}\n${kw.logs().slice(-2000)}`);
    });
    assert.deepEqual(readFileSync(join(out, 'got')), Buffer.from('swarm-bytes\u0000\n'));
    assert.equal(readFileSync(join(out, 'label'), 'utf8'), 'alpha');
    const missing = d.docker(['secret', 'create', '--driver', driver, 'nosuchsecret']);
    ok(missing, 'secret create nosuchsecret');
    // Docker asks the driver only when a task needs the secret. It replaces the driver's Err with its
    // own generic "secret ... not found" in the task state, so keyway's answer is checked in its log.
    ok(d.docker(['service', 'create', '--detach', '--name', 'kwbad', '--restart-condition', 'none', '--secret', 'nosuchsecret', img, 'true']), 'service create');
    let seen = '';
    await waitFor(() => /Failed|Rejected/.test((seen = String(d.docker(['service', 'ps', '--no-trunc', '--format', '{{.CurrentState}} {{.Error}}', 'kwbad']).stdout))), 'the task to fail', 30_000).catch((e: unknown) => {
      throw new Error(`${String(e)}: service ps says ${seen}`);
    });
    assert.match(kw.logs(), /keyway: not_found: swarm secret \\"nosuchsecret\\" from named secret \\"nosuchsecret\\"/);
    const again = d.docker(['run', '--rm', '--network', 'none', '-v', 'multi:/run/s', img, 'cat', '/run/s/b']);
    ok(again, 'docker run after a failed swarm secret');
    assert.equal(String(again.stdout), 'bravo');
  } finally {
    d.docker(['service', 'rm', 'kwsvc', 'kwbad']);
    d.docker(['swarm', 'leave', '--force']);
    rmSync(out, { recursive: true, force: true });
    squatter?.close();
  }
});
