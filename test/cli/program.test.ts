import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/program.js';

test('a known command builds a program with only that command, anything else with all of them', async () => {
  assert.deepEqual((await buildProgram('version')).commands.map((c) => c.name()), ['version']);
  const all = (await buildProgram('gett')).commands.map((c) => c.name());
  assert.ok(all.length >= 13 && all.includes('get') && all.includes('serve'), all.join(','));
  assert.deepEqual((await buildProgram()).commands.map((c) => c.name()), all);
});
