import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram, commandName } from '../../src/cli/program.js';

test('the command name is found after global options and their values', () => {
  assert.equal(commandName(['get', 'x']), 'get');
  assert.equal(commandName(['--log-level', 'debug', 'get', 'x']), 'get');
  assert.equal(commandName(['--config', '/etc/k.toml', '--state-dir', '/s', '--runtime-dir', '/r', 'version']), 'version');
  assert.equal(commandName(['--log-level=debug', 'secret', 'ls']), 'secret');
  assert.equal(commandName(['--help']), undefined);
  assert.equal(commandName(['--config']), undefined);
  assert.equal(commandName(['--', 'get']), undefined);
});

test('a known command builds a program with only that command, anything else with all of them', async () => {
  assert.deepEqual((await buildProgram('version')).commands.map((c) => c.name()), ['version']);
  const all = (await buildProgram('gett')).commands.map((c) => c.name());
  assert.ok(all.length >= 13 && all.includes('get') && all.includes('serve'), all.join(','));
  assert.deepEqual((await buildProgram()).commands.map((c) => c.name()), all);
});
