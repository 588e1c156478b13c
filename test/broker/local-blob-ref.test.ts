// A `ref+local://` reference to a named secret's own stored value would break silently when that
// secret is replaced (its blob is deleted), so the broker refuses it everywhere a reference is taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testInstance } from '../helpers/cli.js';

test('ref+local:// naming another secret\'s stored value is refused for get and for secret create --ref', (t) => {
  const i = testInstance(t);
  const c = i.run(['secret', 'create', 'db', '-'], { input: 'first-value' });
  assert.equal(c.status, 0, c.stderr.toString());
  const blob = c.stdout.toString().trim();
  const get = i.run(['get', `ref+local://${blob}`]);
  assert.equal(get.status, 2, get.stderr.toString());
  assert.match(get.stderr.toString(), /^keyway: invalid_argument: .*stored value of a named secret.*refer to the secret by name/);
  assert.equal(get.stdout.length, 0, 'no value printed');
  const alias = i.run(['secret', 'create', 'alias', '--ref', `ref+local://${blob}`]);
  assert.equal(alias.status, 2, alias.stderr.toString());
  assert.match(alias.stderr.toString(), /invalid_argument: .*stored value of a named secret/);
  assert.equal(i.run(['secret', 'exists', 'alias']).status, 3, 'nothing was created');

  // What works instead: a reference by name follows the secret through a replacement.
  assert.equal(i.run(['secret', 'create', 'byname', '--ref', 'ref+secret://db']).status, 0);
  assert.equal(i.run(['secret', 'create', 'db', '--replace', '-'], { input: 'second-value' }).status, 0);
  assert.equal(i.run(['get', 'byname']).stdout.toString(), 'second-value');
  // The old blob is gone; a reference to an unowned id is an ordinary not-found.
  assert.equal(i.run(['get', `ref+local://${blob}`]).status, 3);
});
