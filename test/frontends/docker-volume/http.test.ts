// The Docker plugin's HTTP side: bad input is 400 with an invalid_argument Err, never 500 internal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { call, fakeWorld } from './fixtures.js';

test('a null body or a reference with a malformed %-escape is 400 invalid_argument', async (t) => {
  const w = fakeWorld(t);
  const p = w.plugin();
  await p.start();
  // Docker sends `null` for methods without arguments; that is fine where nothing is needed.
  assert.equal((await call(p.socket, '/VolumeDriver.List', 'null')).status, 200);
  const cases: [string, unknown][] = [
    ['/VolumeDriver.Create', 'null'],
    ['/VolumeDriver.Mount', 'null'],
    ['/SecretProvider.GetSecret', 'null'],
    ['/VolumeDriver.Create', { Name: 'v1', Opts: { ref: 'ref+vault://kv/%zz' } }],
    ['/VolumeDriver.Create', { Name: 'v2', Opts: { ref: 'ref+secret://db%' } }],
    ['/SecretProvider.GetSecret', { SecretName: 's', SecretLabels: { 'keyway.ref': 'ref+vault://kv/%E0%A4%A' } }],
  ];
  for (const [path, body] of cases) {
    const r = await call(p.socket, path, body);
    assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    assert.match(String(r.body.Err), /^keyway: invalid_argument: /);
  }
  assert.equal(w.repo.list().length, 0, 'nothing was created');
});
