// `npm run docker-plugin` (scripts/build-docker-plugin.mjs) against a private dockerd: the managed
// plugin is built, enabled, used by `docker run` and a Swarm service with secrets created by the
// host's keyway CLI in the state dir the plugin mounts, then disabled and removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, makeInstance, REPO } from '../helpers/cli.js';
import { dockerSkipReason, holdPort, startDockerd } from '../helpers/dockerd.js';
import { unmountUnder } from '../helpers/mounts.js';
import { imageSkipReason, importDockerImage } from '../helpers/images.js';

const skip = dockerSkipReason() || imageSkipReason();
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const NAME = `keyway/keyway:${version}`;

/**
 * A plugin that failed to start can leave its containerd shim behind after dockerd stops; the
 * shims of this test's private dockerd name its directory in their argv.
 */
function killShimsOf(dir: string): void {
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let argv = '';
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (argv.startsWith('/usr/bin/containerd-shim') && argv.includes(`${dir}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

async function waitFor(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('the managed plugin is built disabled, serves docker run and a Swarm service when enabled, shows no credentials, and is removed', { skip, timeout: 600_000 }, async (t) => {
  ensureBuilt();
  const d = await startDockerd();
  // The host's keyway CLI and the plugin share the state dir (the plugin's `state` mount) and the
  // config dir (its `config` mount); a canary credential sits in a file the config names.
  const host = makeInstance('kw-plug-');
  const configDir = join(host.dir, 'etc');
  mkdirSync(configDir);
  const credential = `CANARY-credential-${randomBytes(6).toString('hex')}`;
  writeFileSync(join(configDir, 'vault-token'), credential, { mode: 0o600 });
  const toml = `[docker]\nenabled = true\n[csi]\nenabled = false\n[providers.vault]\ntype = "vault"\naddress = "http://127.0.0.1:1"\nauth = { method = "token", token_file = "/etc/keyway/vault-token" }\n`;
  writeFileSync(join(configDir, 'keyway.toml'), toml);
  const out = mkdtempSync(join(tmpdir(), 'kw-plug-out-'));
  t.after(async () => {
    d.docker(['service', 'rm', 'kwsvc']);
    d.docker(['swarm', 'leave', '--force']);
    d.removeContainers();
    d.docker(['plugin', 'disable', '-f', NAME]);
    d.docker(['plugin', 'rm', '-f', NAME]);
    await d.stop();
    killShimsOf(d.dir);
    unmountUnder(host.dir);
    host.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  const build = spawnSync(process.execPath, [join(REPO, 'scripts', 'build-docker-plugin.mjs')], { env: { ...process.env, ...d.env }, encoding: 'utf8', timeout: 600_000 });
  assert.equal(build.status, 0, build.stderr);
  assert.equal(String(d.docker(['plugin', 'inspect', '--format', '{{.Enabled}}', NAME]).stdout).trim(), 'false', 'left installed and disabled');

  const db = Buffer.concat([Buffer.from([0, 10, 255]), randomBytes(200)]);
  for (const [n, v] of [['db', db], ['swarmy', Buffer.from('swarm-bytes\0\n')]] as const) {
    const r = host.run(['secret', 'create', n, '-'], { input: v });
    assert.equal(r.status, 0, r.stderr.toString());
  }
  const set = d.docker(['plugin', 'set', NAME, `state.source=${host.stateDir}`, `config.source=${configDir}`]);
  assert.equal(set.status, 0, set.stderr);
  const enable = d.docker(['plugin', 'enable', NAME]);
  assert.equal(enable.status, 0, `${enable.stderr}\n${d.log().split("\n").filter((l) => l.includes("plugin=")).join("\n").slice(-3000)}`);
  const img = importDockerImage(d.env);

  const run = d.docker(['run', '--rm', '--network', 'none', '--volume-driver', NAME, '-v', 'db:/run/secrets/db', img, 'cat', '/run/secrets/db']);
  assert.equal(run.status, 0, `${run.stderr}\n${d.log().slice(-3000)}`);
  assert.deepEqual(run.stdout, db);

  // While a container holds the volume, its bytes sit on the plugin's noswap tmpfs, propagated to the host.
  const held = d.docker(['run', '-d', '--network', 'none', '--volume-driver', NAME, '-v', 'db:/run/secrets/db', img, 'sleep', '300']);
  assert.equal(held.status, 0, held.stderr);
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  const tmpfs = mountinfo.split('\n').find((l) => l.includes(`${d.dir}/`) && /\/propagated-mount\/mounts /.test(l));
  assert.ok(tmpfs?.includes(' - tmpfs ') && /\bnoswap\b/.test(tmpfs), `no noswap tmpfs under the propagated mount:\n${mountinfo.split('\n').filter((l) => l.includes('propagated')).join('\n')}`);
  d.docker(['rm', '-f', String(held.stdout).trim()]);

  // With the default swarm port 2377 taken, as by another Swarm manager on the machine.
  const squatter = await holdPort(2377);
  t.after(() => squatter?.close());
  ok(await d.swarmInit(), 'swarm init');
  ok(d.docker(['secret', 'create', '--driver', NAME, 'swarmy']), 'secret create');
  ok(
    d.docker(['service', 'create', '--detach', '--name', 'kwsvc', '--restart-condition', 'none', '--secret', 'swarmy', '--mount', `type=bind,src=${out},dst=/out`, img, 'sh', '-c', 'cat /run/secrets/swarmy > /out/got.tmp && mv /out/got.tmp /out/got; sleep 300']),
    'service create',
  );
  await waitFor(() => existsSync(join(out, 'got')), 'the service task to read its secret', 90_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${String(d.docker(['service', 'ps', '--no-trunc', 'kwsvc']).stdout)}`);
  });
  assert.deepEqual(readFileSync(join(out, 'got')), Buffer.from('swarm-bytes\0\n'));
  d.docker(['service', 'rm', 'kwsvc']);

  const inspect = d.docker(['plugin', 'inspect', NAME]);
  assert.equal(inspect.status, 0);
  const text = String(inspect.stdout);
  assert.ok(!text.includes(credential) && !text.includes(db.toString('latin1').slice(3, 40)), 'no credentials or values in docker plugin inspect');
  const env = (JSON.parse(text) as { Settings: { Env: string[] } }[])[0]?.Settings.Env ?? [];
  assert.deepEqual(env.map((e) => e.split('=')[0]).sort(), ['KEYWAY_CONFIG', 'KEYWAY_LOG_LEVEL', 'KEYWAY_RUNTIME_DIR', 'KEYWAY_STATE_DIR']);

  ok(d.docker(['swarm', 'leave', '--force']), 'swarm leave');
  // Swarm removes the task's container, and so unmounts its volume, on its own time after leave.
  d.removeContainers();
  await waitFor(() => String(d.docker(['ps', '-aq']).stdout).trim() === '', 'containers to be removed', 30_000);
  // Docker refuses to disable a volume plugin that still has volumes it knows of.
  for (const v of String(d.docker(['volume', 'ls', '-q']).stdout).split('\n').filter(Boolean)) ok(d.docker(['volume', 'rm', v]), `volume rm ${v}`);
  ok(d.docker(['plugin', 'disable', NAME]), 'plugin disable');
  ok(d.docker(['plugin', 'rm', NAME]), 'plugin rm');
  assert.notEqual(d.docker(['plugin', 'inspect', NAME]).status, 0);

  function ok(r: { status: number | null; stderr: string }, what: string): void {
    assert.equal(r.status, 0, `${what} failed: ${r.stderr}\n${d.log().slice(-2000)}`);
  }
});
