// examples/compose/ against a private dockerd and the real `keyway serve` as its volume plugin,
// driven by Debian's docker-compose (1.29).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { ensureTools } from '../helpers/tools.js';
import { dockerSkipReason, startDockerd } from '../helpers/dockerd.js';
import { imageSkipReason, importDockerImage } from '../helpers/images.js';
import { keywayPlugin } from '../frontends/docker-volume/keyway-serve.js';

const skip = dockerSkipReason() || imageSkipReason() || ensureTools([['docker-compose', 'docker-compose']]);
const EXAMPLE = join(REPO, 'examples', 'compose');
const COMPOSE_FILE = join(EXAMPLE, 'docker-compose.yml');
// Template volumes (`-o template=FILE`) exist once src/templates/ does.
const noTemplates = existsSync(join(REPO, 'src', 'templates')) ? false : 'SKIPPED: this build has no templates';

test('docker-compose run of the example reads the exact bytes of a single-secret and a multi-secret volume', { skip }, async (t) => {
  const d = await startDockerd();
  const kw = keywayPlugin();
  t.after(async () => {
    await d.stop();
    await kw.cleanup();
  });
  await kw.start();
  const image = importDockerImage(d.env);
  const values = {
    'db-password': Buffer.concat([Buffer.from([0, 10, 255]), randomBytes(64)]),
    'tls-cert': Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'),
    'tls-key': randomBytes(48),
  };
  for (const [name, value] of Object.entries(values)) {
    const r = kw.instance.run(['secret', 'create', name, '-'], { input: value });
    assert.equal(r.status, 0, r.stderr.toString());
  }
  const project = `kw${randomBytes(3).toString('hex')}`;
  const compose = (args: readonly string[]): ReturnType<typeof spawnSync> =>
    spawnSync('docker-compose', ['--no-ansi', '-f', COMPOSE_FILE, '-p', project, ...args], {
      env: { ...d.env, APP_IMAGE: image, KEYWAY_DRIVER: kw.name },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  const r = compose(['run', '--rm', '-T', 'app', 'cat', '/run/secrets/db-password', '/etc/app/tls/tls-cert', '/etc/app/tls/tls-key']);
  assert.equal(r.status, 0, `${String(r.stderr)}\n--- keyway ---\n${kw.logs().slice(-2000)}`);
  assert.deepEqual(r.stdout, Buffer.concat([values['db-password'], values['tls-cert'], values['tls-key']]));
  // Compose created the volumes through keyway, with the example's options.
  // (Every named secret is a volume too; only the project's own are of interest here.)
  const projectVolumes = (): string[] =>
    String(d.docker(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']).stdout).trim().split('\n').filter((l) => l.includes(` ${project}_`)).sort();
  assert.deepEqual(projectVolumes(), [`${kw.name} ${project}_db-password`, `${kw.name} ${project}_tls`]);
  // The container is gone, and with it every mount set.
  const sets = join(kw.instance.runtimeDir, 'mounts');
  assert.deepEqual(existsSync(sets) ? readdirSync(sets).filter((e) => !e.startsWith('.')) : [], []);
  const down = compose(['down', '-v']);
  assert.equal(down.status, 0, String(down.stderr));
  assert.deepEqual(projectVolumes(), []);
});

test('the template override adds a volume whose file keyway renders from a named secret', { skip: skip || noTemplates }, async (t) => {
  const d = await startDockerd();
  const kw = keywayPlugin();
  t.after(async () => {
    await d.stop();
    await kw.cleanup();
  });
  kw.instance.writeConfig(`[docker]\nenabled = true\nsocket = "${kw.socket}"\n[csi]\nenabled = false\n[templates]\ndir = "${join(EXAMPLE, 'templates')}"\n`);
  await kw.start();
  const image = importDockerImage(d.env);
  const password = `pw-${randomBytes(8).toString('hex')} "quoted"`;
  for (const [name, value] of [['db-password', password], ['tls-cert', 'cert'], ['tls-key', 'key']] as const) {
    const r = kw.instance.run(['secret', 'create', name, '-'], { input: value });
    assert.equal(r.status, 0, r.stderr.toString());
  }
  const project = `kw${randomBytes(3).toString('hex')}`;
  const files = ['-f', COMPOSE_FILE, '-f', join(EXAMPLE, 'docker-compose.template.yml')];
  const compose = (args: readonly string[]): ReturnType<typeof spawnSync> =>
    spawnSync('docker-compose', ['--no-ansi', ...files, '-p', project, ...args], { env: { ...d.env, APP_IMAGE: image, KEYWAY_DRIVER: kw.name }, timeout: 120_000 });
  const r = compose(['run', '--rm', '-T', 'app', 'cat', '/etc/app/conf/app.conf']);
  assert.equal(r.status, 0, `${String(r.stderr)}\n--- keyway ---\n${kw.logs().slice(-2000)}`);
  assert.equal(String(r.stdout), `# Rendered by keyway from the named secret db-password; never written to disk.\n[database]\nuser = "app"\npassword = ${JSON.stringify(password)}\n`);
  assert.equal(compose(['down', '-v']).status, 0);
});
