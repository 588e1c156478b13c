import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRootlessUser, rootlessSkipReason, type RootlessUser } from '../../helpers/rootless.js';
import { testInstance } from '../../helpers/cli.js';
import { rootSkipReason } from '../../helpers/tools.js';

const SKIP = rootlessSkipReason() ?? false;
let user: RootlessUser;

before(() => {
  if (SKIP === false) user = makeRootlessUser();
});
after(() => user?.cleanup());

test("keyway podman setup registers the volume plugin once in the user's containers.conf.d and keeps the user's containers.conf", { skip: SKIP }, () => {
  const conf = join(user.home, '.config', 'containers', 'containers.conf');
  const dropIn = join(user.home, '.config', 'containers', 'containers.conf.d', '50-keyway.conf');
  const before = readFileSync(conf);
  const shown = user.keyway(['podman', 'setup', '--print']);
  assert.equal(shown.status, 0, shown.stderr.toString());
  assert.match(shown.stdout.toString(), new RegExp(`keyway = "${user.runtimeDir}/docker.sock"`));
  assert.equal(existsSync(dropIn), false, '--print changes nothing');

  const first = user.keyway(['podman', 'setup']);
  assert.equal(first.status, 0, first.stderr.toString());
  assert.match(first.stdout.toString(), /^created .*50-keyway\.conf/);
  const second = user.keyway(['podman', 'setup']);
  assert.equal(second.status, 0, second.stderr.toString());
  assert.match(second.stdout.toString(), /^unchanged: /);
  const text = readFileSync(dropIn, 'utf8');
  assert.equal(text.match(/^keyway = /gm)?.length, 1, 'one entry');
  assert.equal(text.match(/^\[engine\.volume_plugins\]$/gm)?.length, 1);
  assert.deepEqual(readFileSync(conf), before, "the user's containers.conf is untouched");

  // A moved socket updates the one entry instead of adding another.
  const moved = user.keyway(['--runtime-dir', join(user.xdgRuntimeDir, 'kw2'), 'podman', 'setup']);
  assert.equal(moved.status, 0, moved.stderr.toString());
  assert.match(moved.stdout.toString(), /^updated /);
  const after2 = readFileSync(dropIn, 'utf8');
  assert.equal(after2.match(/^keyway = /gm)?.length, 1);
  assert.match(after2, new RegExp(`keyway = "${user.xdgRuntimeDir}/kw2/docker.sock"`));

  // Podman reads it: the driver is known (it then fails only because nothing listens yet).
  const r = user.run('podman', ['volume', 'create', '--driver', 'keyway', 'probe']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.toString(), /cannot access plugin keyway socket/);
  assert.doesNotMatch(r.stderr.toString(), /no volume plugin with name/);
});

test('keyway podman setup as root targets the system drop-in and the root Docker plugin socket', { skip: rootSkipReason('setup as root writes the system drop-in') }, (t) => {
  const i = testInstance(t, 'keyway-setup-');
  const r = i.run(['podman', 'setup', '--print']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(r.stdout.toString(), /^# \/etc\/containers\/containers\.conf\.d\/50-keyway\.conf/);
  assert.match(r.stdout.toString(), /keyway = "\/run\/docker\/plugins\/keyway\.sock"/);
});
