import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { IMAGE, makeRootlessUser, rootlessSkipReason, type RootlessUser } from '../helpers/rootless.js';
import { scanFor } from '../helpers/cli.js';

const SKIP = rootlessSkipReason() ?? false;
let user: RootlessUser;

before(() => {
  if (SKIP === false) user = makeRootlessUser();
});
after(() => user?.cleanup());

test("rootless keyway podman create says once that Podman copies a --secret to disk, which is what Podman then does", { skip: SKIP }, () => {
  const canary = Buffer.from(`CANARY-${randomBytes(12).toString('hex')}`);
  const r = user.keyway(['podman', 'create', 'pw', '-'], { input: canary });
  assert.equal(r.status, 0, r.stderr.toString());
  const notes = r.stderr.toString().match(/copies the value of a --secret into its container storage on disk/g) ?? [];
  assert.equal(notes.length, 1, r.stderr.toString());
  assert.match(r.stderr.toString(), /podman volume create --driver keyway/);
  // What the note warns about: creating a container puts a copy under the user's container storage.
  const id = user.podman(['create', '--secret', 'pw', IMAGE, 'true']).toString().trim();
  const storage = join(user.home, '.local', 'share', 'containers');
  assert.ok(scanFor([storage], canary).length > 0, "Podman's copy of the value is on disk");
  user.podman(['rm', id]);
  assert.deepEqual(scanFor([storage], canary), [], 'removed with the container');
});
