// `npm run image` (scripts/build-image.mjs) into a private Podman store: the image is built from
// this machine alone and runs keyway's `version` and `doctor`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ensureBuilt, REPO } from '../helpers/cli.js';
import { IMAGE as BUSYBOX, makePodman, podmanSkipReason, type PodmanEnv } from '../helpers/podman.js';

const skip = podmanSkipReason() ?? false;
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const TAG = `localhost/keyway:${version}`;
let p: PodmanEnv;
let buildOutput = '';

// One private store and one build for the whole file.
before(() => {
  if (skip) return;
  ensureBuilt();
  p = makePodman();
  const build = spawnSync(process.execPath, [join(REPO, 'scripts', 'build-image.mjs')], { env: { ...process.env, ...p.env }, encoding: 'utf8', timeout: 300_000 });
  assert.equal(build.status, 0, build.stderr);
  buildOutput = build.stdout;
});
after(() => p?.cleanup());

test('npm run image builds localhost/keyway:<version> without pulling, and it runs version and doctor', { skip }, () => {
  const size = Number(/\(([\d.]+) MB uncompressed\)/.exec(buildOutput)?.[1]);
  console.error(`image ${TAG}: ${size} MB uncompressed`);
  // Besides the helper's busybox, only this image is in the store: nothing was pulled to build it.
  const images = p.ok(['images', '--format', '{{.Repository}}:{{.Tag}}']).toString().trim().split('\n');
  assert.deepEqual(images.filter((i) => i !== BUSYBOX), [TAG]);
  const labels = JSON.parse(p.ok(['image', 'inspect', '--format', '{{json .Labels}}', TAG]).toString()) as Record<string, string> | null;
  assert.equal(labels?.['org.opencontainers.image.version'], version, JSON.stringify(labels));

  const v = p.run(['run', '--rm', TAG, 'version']);
  assert.equal(v.status, 0, v.stderr.toString());
  assert.match(v.stdout.toString(), new RegExp(`^keyway ${version.replace(/\./g, '\\.')} \\(node v\\d+`));

  // doctor inside a plain (unprivileged) container: it runs, answers in JSON, and reports the
  // mount root it could or could not make rather than crashing.
  const doc = p.run(['run', '--rm', '-e', 'KEYWAY_RUNTIME_DIR=/tmp/kw', '-e', 'KEYWAY_STATE_DIR=/tmp/st', TAG, 'doctor', '--format', 'json']);
  assert.ok(doc.status === 0 || doc.status === 1, `doctor exited ${doc.status}: ${doc.stderr.toString()}`);
  const report = JSON.parse(doc.stdout.toString()) as { checks: { name: string; status: string }[]; verdict: string };
  const names = report.checks.map((c) => c.name);
  assert.ok(names.includes('kernel') && names.includes('mount root') && names.includes('state dir'), doc.stdout.toString());
  assert.match(report.verdict, /^(secure|weak|insecure)$/);
  assert.ok(!doc.stderr.toString().includes('Error:'), doc.stderr.toString());
});

test('the image runs as the DaemonSet runs it: read-only root, no capabilities, CSI socket in the host dir, liveness probe passes', { skip }, async (t) => {
  const ds = (parseAllDocuments(readFileSync(join(REPO, 'deploy', 'kubernetes', 'daemonset.yaml'), 'utf8'))[0]?.toJS() ?? {}) as DaemonSet;
  const container = ds.spec.template.spec.containers[0];
  assert.ok(container);
  assert.equal(container.image, TAG, 'the DaemonSet names the image npm run image builds');
  const cm = parseAllDocuments(readFileSync(join(REPO, 'deploy', 'kubernetes', 'configmap.yaml'), 'utf8'))[0]?.toJS() as { data: Record<string, string> };

  const dir = mkdtempSync(join(tmpdir(), 'keyway-ds-'));
  t.after(() => {
    p.run(['rm', '-f', '-t', '5', 'kw-ds']);
    rmSync(dir, { recursive: true, force: true });
  });
  for (const d of ['config', 'state', 'providers']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'config', 'keyway.toml'), cm.data['keyway.toml'] ?? '');
  const mountsFor: Record<string, string> = { 'providers-dir': join(dir, 'providers'), config: join(dir, 'config'), state: join(dir, 'state') };
  const args = ['run', '-d', '--name', 'kw-ds', '--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--user', '0:0'];
  for (const m of container.volumeMounts) {
    const host = mountsFor[m.name];
    args.push(...(host ? ['-v', `${host}:${m.mountPath}${m.readOnly ? ':ro' : ''}`] : ['--tmpfs', `${m.mountPath}:rw,size=16m,mode=0755`]));
  }
  const started = p.run([...args, TAG, ...container.args]);
  assert.equal(started.status, 0, started.stderr.toString());
  const socket = join(dir, 'providers', 'keyway.sock');
  const deadline = Date.now() + 30_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) assert.fail(`no CSI socket; logs:\n${p.run(['logs', 'kw-ds']).stderr.toString()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const probe = p.run(['exec', 'kw-ds', ...container.livenessProbe.exec.command]);
  assert.equal(probe.status, 0, probe.stderr.toString());
  const logs = p.run(['logs', 'kw-ds']);
  assert.match(logs.stdout.toString() + logs.stderr.toString(), /keyway serving/);
});

interface DaemonSet {
  spec: { template: { spec: { containers: { image: string; args: string[]; livenessProbe: { exec: { command: string[] } }; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[] } } };
}
