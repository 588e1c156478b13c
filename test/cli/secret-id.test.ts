// `keyway secret rm/inspect/exists` take NAME or ID: a short id prefix is not a name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testInstance } from '../helpers/cli.js';

test('secret rm with a 3-digit prefix of an id removes nothing; 12 digits or the name do', (t) => {
  const i = testInstance(t);
  const c = i.run(['secret', 'create', 'db', '-'], { input: 'pw' });
  assert.equal(c.status, 0, c.stderr.toString());
  const id = c.stdout.toString().trim();
  const short = i.run(['secret', 'rm', id.slice(0, 3)]);
  assert.equal(short.status, 3, 'not found');
  assert.match(short.stderr.toString(), /not_found: no secret named/);
  assert.equal(i.run(['secret', 'exists', id.slice(0, 3)]).status, 3);
  assert.equal(i.run(['secret', 'inspect', id.slice(0, 11)]).status, 3);
  assert.equal(i.run(['secret', 'exists', 'db']).status, 0, 'still there');
  const inspect = i.run(['secret', 'inspect', id.slice(0, 12)]);
  assert.equal(inspect.status, 0, inspect.stderr.toString());
  assert.equal((JSON.parse(inspect.stdout.toString()) as { Name: string }[])[0]?.Name, 'db');
  const rm = i.run(['secret', 'rm', id.slice(0, 12)]);
  assert.equal(rm.status, 0, rm.stderr.toString());
  assert.equal(rm.stdout.toString(), `${id}\n`);
  assert.equal(i.run(['secret', 'exists', 'db']).status, 3);
});
