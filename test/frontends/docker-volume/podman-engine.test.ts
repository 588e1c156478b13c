// Acceptance against real Podman (rootful, runc, cgroupfs, vfs, private storage and config through
// CONTAINERS_CONF / CONTAINERS_STORAGE_CONF): the keyway socket listed under
// [engine.volume_plugins] serves `podman volume create --driver` and `podman run -v`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGE, makePodman, podmanSkipReason, type PodmanEnv } from '../../helpers/podman.js';
import { keywayPlugin, type KeywayPlugin } from './keyway-serve.js';

const skip = podmanSkipReason() ?? false;
if (skip) console.error(`podman-engine tests ${skip}`);

const SECRET = Buffer.concat([Buffer.from('podman\u0000'), Buffer.from([255, 10])]);
const img = IMAGE;
let pm: PodmanEnv;
let kw: KeywayPlugin;

function podman(args: readonly string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = pm.run(args);
  return { status: r.status, stdout: r.stdout ?? Buffer.alloc(0), stderr: String(r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function ok(r: { status: number | null; stderr: string }, what: string): void {
  assert.equal(r.status, 0, `${what} failed: ${r.stderr}\n--- keyway log ---\n${kw.logs().slice(-2000)}`);
}

before(async () => {
  if (skip) return;
  kw = keywayPlugin();
  await kw.start();
  pm = makePodman('kw-podman-', { volumePlugins: { [kw.name]: kw.socket } });
  assert.equal(kw.instance.run(['secret', 'create', 'pdb', '-'], { input: SECRET }).status, 0);
  assert.equal(kw.instance.run(['secret', 'create', 'pa', '-'], { input: 'A' }).status, 0);
});

after(async () => {
  if (skip) return;
  pm?.cleanup();
  await kw?.cleanup();
});

test('podman volume create --driver keyway and podman run -v read the secret', { skip }, () => {
  ok(podman(['volume', 'create', '--driver', kw.name, '-o', 'secret=pdb', '-o', 'mode=0444', '-o', 'timeout=30', 'pvol']), 'podman volume create');
  const r = podman(['run', '--rm', '--network', 'none', '-v', 'pvol:/run/secrets/pdb', img, 'cat', '/run/secrets/pdb']);
  ok(r, 'podman run');
  assert.deepEqual(r.stdout, SECRET);
  const sets = join(kw.instance.runtimeDir, 'mounts');
  assert.deepEqual(existsSync(sets) ? readdirSync(sets).filter((e) => !e.startsWith('.')) : [], [], 'the mount set is wiped after the container exits');
});

test('podman mounts a directory volume and shows keyway\'s error for an unknown option', { skip }, () => {
  ok(podman(['volume', 'create', '--driver', kw.name, '-o', 'secrets=pa,pdb', 'pdir']), 'podman volume create');
  const r = podman(['run', '--rm', '--network', 'none', '-v', 'pdir:/s', img, 'cat', '/s/pa']);
  ok(r, 'podman run');
  assert.equal(String(r.stdout), 'A');
  const bad = podman(['volume', 'create', '--driver', kw.name, '-o', 'colour=red', 'pbad']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown volume option "colour"/);
  const ls = podman(['volume', 'ls', '--format', '{{.Name}}']);
  ok(ls, 'podman volume ls');
  assert.ok(String(ls.stdout).split('\n').includes('pvol'));
});

test('two podman containers share one reference-counted set and the last one out wipes it', { skip }, () => {
  ok(podman(['volume', 'create', '--driver', kw.name, 'pdb']), 'podman volume create for a named secret');
  const ids = [0, 1].map(() => {
    const c = podman(['run', '-d', '--network', 'none', '-v', 'pdb:/run/secrets/pdb', img, 'sleep', '300']);
    ok(c, 'podman run -d');
    return String(c.stdout).trim();
  });
  const sets = (): string[] => readdirSync(join(kw.instance.runtimeDir, 'mounts')).filter((e) => !e.startsWith('.'));
  assert.equal(sets().length, 1, 'Podman mounts once per volume');
  ok(podman(['rm', '-f', ids[0] as string]), 'podman rm');
  const r = podman(['exec', ids[1] as string, 'cat', '/run/secrets/pdb']);
  ok(r, 'podman exec');
  assert.deepEqual(r.stdout, SECRET);
  assert.equal(sets().length, 1);
  ok(podman(['rm', '-f', ids[1] as string]), 'podman rm');
  assert.deepEqual(sets(), []);
});
