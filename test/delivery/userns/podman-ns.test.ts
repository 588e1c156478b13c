import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../../helpers/cli.js';

void test("podman unshare gets the engine's settings and the user's PATH, never a credential from keyway's environment", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-podman-env-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const seen = join(dir, 'podman-env');
  // A podman first on PATH that records the environment it was given, as a pause process would keep it.
  writeFileSync(join(bin, 'podman'), `#!/bin/sh\nenv > ${JSON.stringify(seen)}\nexit 1\n`);
  chmodSync(join(bin, 'podman'), 0o755);
  const canary = `CANARY-${process.pid}-${Date.now()}`;
  const path = `${bin}:/usr/local/bin:/usr/bin:/bin`;
  const script = `
    import { findPodmanNamespace } from ${JSON.stringify(join(REPO, 'src', 'delivery', 'userns', 'podman-ns.ts'))};
    await findPodmanNamespace().then(() => console.log('{}'), (e) => console.log(JSON.stringify({ code: e.code })));`;
  const env = { PATH: path, HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run'), VAULT_TOKEN: canary, AWS_SECRET_ACCESS_KEY: canary };
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { code: 'failed_precondition' }, 'the failed podman unshare is reported');
  const got = readFileSync(seen, 'utf8');
  assert.ok(!got.includes(canary), `no credential reaches podman:\n${got}`);
  const vars = new Map(got.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(vars.get('XDG_RUNTIME_DIR'), env.XDG_RUNTIME_DIR);
  assert.equal(vars.get('HOME'), env.HOME);
  assert.equal(vars.get('PATH'), path);
});
