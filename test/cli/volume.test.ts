import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDbFile } from '../../src/store/db.js';
import { testInstance } from '../helpers/cli.js';

/** An instance whose store holds what `docker volume create -d keyway` and one Mount would leave. */
function withVolumes(t: { after: (fn: () => void) => void }) {
  const i = testInstance(t);
  assert.equal(i.run(['secret', 'create', 'a', '-'], { input: 'x' }).status, 0);
  const db = openDbFile(join(i.stateDir, 'keyway.db'), { readOnly: false });
  try {
    const add = db.prepare('INSERT INTO volumes (name, opts, created_at) VALUES (?, ?, ?)');
    add.run('app-pw', JSON.stringify({ ref: 'ref+vault://kv/app?version=3#/password', mode: '0440', gid: '1000' }), '2026-01-02T03:04:05.000Z');
    add.run('tls', JSON.stringify({ secrets: 'a,b' }), '2026-01-02T03:04:06.000Z');
    db.prepare('INSERT INTO volume_mounts (volume, mount_id, mount_set_id, refcount, created_at) VALUES (?, ?, ?, 1, ?)').run('tls', 'm1', 'set1', '2026-01-02T03:04:07.000Z');
  } finally {
    db.close();
  }
  return i;
}

test('volume ls lists the explicit volumes with kind, source and live mounts, in table, json and template form', (t) => {
  const i = withVolumes(t);
  const table = i.run(['volume', 'ls']);
  assert.equal(table.status, 0, table.stderr.toString());
  const lines = table.stdout.toString().trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^NAME\s+KIND\s+SOURCE\s+MOUNTS\s+CREATED$/);
  assert.match(lines[1] ?? '', /^app-pw\s+ref\s+ref\+vault:\/\/kv\/app\s+0\s+2026-01-02T03:04:05\.000Z$/);
  assert.match(lines[2] ?? '', /^tls\s+directory\s+a,b\s+1\s+/);
  assert.equal(lines.length, 3, 'the named secret "a" is not an explicit volume');
  assert.doesNotMatch(table.stdout.toString(), /version=3/, 'no reference query in listings');
  const json = JSON.parse(i.run(['volume', 'ls', '--format', 'json']).stdout.toString()) as Record<string, unknown>[];
  assert.deepEqual(json[0], { Name: 'app-pw', Driver: 'keyway', Kind: 'ref', Source: json[0]?.Source, Mode: '0440', UID: null, GID: 1000, Mounts: 0, CreatedAt: '2026-01-02T03:04:05.000Z' });
  assert.equal(i.run(['volume', 'ls', '--format', '{{.Name}} {{.Mounts}}']).stdout.toString(), 'app-pw 0\ntls 1\n');
  assert.equal(i.run(['volume', 'ls', '-q']).stdout.toString(), 'app-pw\ntls\n');
});

test('volume inspect prints the volumes found and fails naming the rest', (t) => {
  const i = withVolumes(t);
  const r = i.run(['volume', 'inspect', 'tls', 'nosuch']);
  assert.equal(r.status, 3);
  assert.deepEqual((JSON.parse(r.stdout.toString()) as { Name: string }[]).map((v) => v.Name), ['tls']);
  assert.match(r.stderr.toString(), /^keyway: not_found: no explicit volume named "nosuch" \(a named secret is a volume too; keyway secret inspect shows it\)\n$/);
  assert.equal(i.run(['volume', 'inspect', '--format', '{{.Kind}}:{{.Source}}', 'tls']).stdout.toString(), 'directory:a,b\n');
});
