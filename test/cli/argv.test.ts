// The lean `get` path (src/cli/argv.ts) must take only what the command tree would take the
// same way: whenever it recognises an argv, commander parses that argv into the same target, --out
// and global options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Command } from 'commander';
import { commandName, leanGetArgs, type LeanGet } from '../../src/cli/argv.js';
import { buildProgram } from '../../src/cli/program.js';
import { globalsOf } from '../../src/cli/context.js';

const quiet = { writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined };

/** What commander hands get's action for argv, or undefined when it refuses argv or runs no get. */
async function viaCommander(argv: readonly string[]): Promise<LeanGet | undefined> {
  const program = (await buildProgram('get')).configureOutput(quiet);
  const get = program.commands.find((c) => c.name() === 'get') as Command;
  let seen: LeanGet | undefined;
  get.configureOutput(quiet).action((target: string, opts: { out?: string }, cmd: Command) => {
    seen = { target, ...(opts.out !== undefined ? { out: opts.out } : {}), flags: globalsOf(cmd) };
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch {
    return undefined;
  }
  return seen;
}

test('the command name is found after global options and their values', () => {
  assert.equal(commandName(['get', 'x']), 'get');
  assert.equal(commandName(['--log-level', 'debug', 'get', 'x']), 'get');
  assert.equal(commandName(['--config', '/etc/k.toml', '--state-dir', '/s', '--runtime-dir', '/r', 'version']), 'version');
  assert.equal(commandName(['--log-level=debug', 'secret', 'ls']), 'secret');
  assert.equal(commandName(['--log-format', 'json', 'secret', 'ls']), 'secret');
  assert.equal(commandName(['--help']), undefined);
  assert.equal(commandName(['--config']), undefined);
  assert.equal(commandName(['--', 'get']), undefined);
});

test('leanGetArgs takes plain get invocations with global options anywhere', () => {
  assert.deepEqual(leanGetArgs(['get', 'db-password']), { target: 'db-password', flags: {} });
  assert.deepEqual(leanGetArgs(['--state-dir', '/s', 'get', 'ref+vault://kv/app#/user', '--out', '/tmp/f', '--log-level', 'debug']), {
    target: 'ref+vault://kv/app#/user',
    out: '/tmp/f',
    flags: { stateDir: '/s', logLevel: 'debug' },
  });
  assert.deepEqual(leanGetArgs(['get', '--out', 'f', 'x', '--config', 'k.toml', '--runtime-dir', '/r', '--log-format', 'json']), {
    target: 'x',
    out: 'f',
    flags: { config: 'k.toml', runtimeDir: '/r', logFormat: 'json' },
  });
});

test('leanGetArgs leaves everything else to the command tree', () => {
  for (const argv of [
    [],
    ['get'],
    ['version'],
    ['secret', 'get', 'x'],
    ['get', 'x', 'y'],
    ['get', '--help'],
    ['get', 'x', '-h'],
    ['--version'],
    ['get', '--', 'x'],
    ['get', '-'],
    ['get', ''],
    ['get', 'x', '--out'],
    ['get', 'x', '--out', ''],
    ['get', 'x', '--out', '-'],
    ['get', 'x', '--out=f'],
    ['--config=k.toml', 'get', 'x'],
    ['--out', 'f', 'get', 'x'],
    ['get', 'x', '--out', 'a', '--out', 'b'],
    ['--config', 'a', 'get', 'x', '--config', 'b'],
    ['--config', '--state-dir', 'get', 'x'],
    ['get', 'x', '--verbose'],
  ]) {
    assert.equal(leanGetArgs(argv), undefined, JSON.stringify(argv));
  }
});

test('whatever leanGetArgs takes, commander parses to the same target, --out and global options', async () => {
  // Argv built from the pieces a get invocation is made of, and pieces that should break it.
  const value = fc.constantFrom('v', '/p', 'a b', 'json', 'warn', 'get', '', '-', '--x', '-h');
  const globalFlag = fc.constantFrom('--config', '--state-dir', '--runtime-dir', '--log-level', '--log-format');
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(globalFlag, value) },
    { weight: 2, arbitrary: fc.tuple(fc.constant('--out'), value) },
    { weight: 4, arbitrary: fc.constant(['get']) },
    { weight: 4, arbitrary: value.map((v) => [v]) },
    { weight: 1, arbitrary: fc.constantFrom(['--'], ['-h'], ['--help'], ['--out=f'], ['--config=c'], ['--version'], ['secret']) },
  );
  const argvs = fc.array(piece, { maxLength: 6 }).map((ps) => ps.flat());
  let taken = 0;
  await fc.assert(
    fc.asyncProperty(argvs, async (argv) => {
      const lean = leanGetArgs(argv);
      if (lean === undefined) return;
      taken++;
      assert.deepEqual(await viaCommander(argv), lean, JSON.stringify(argv));
    }),
    { numRuns: 6000 },
  );
  // The generator must reach the lean path often enough for the property to mean something.
  assert.ok(taken >= 150, `only ${taken} argv took the lean path`);
});

test('an --out=FILE the lean path leaves to commander still reaches get', async () => {
  assert.equal(leanGetArgs(['get', 'x', '--out=f']), undefined);
  assert.deepEqual(await viaCommander(['get', 'x', '--out=f']), { target: 'x', out: 'f', flags: {} });
});
