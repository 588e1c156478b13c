import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, makeInstance, testInstance } from '../helpers/cli.js';
import { ensureTools, hasTool } from '../helpers/tools.js';

function script(shell: string): string {
  const i = makeInstance();
  try {
    const r = i.run(['completion', shell]);
    assert.equal(r.status, 0, r.stderr.toString());
    return r.stdout.toString();
  } finally {
    i.cleanup();
  }
}

/** What bash offers for the words typed so far (the last one is being completed). */
function bashComplete(words: readonly string[]): string[] {
  const i = makeInstance();
  try {
    const file = join(i.dir, 'keyway.bash');
    writeFileSync(file, script('bash'));
    const arr = words.map((w) => `'${w}'`).join(' ');
    const r = spawnSync('bash', ['-c', `source "$1"; COMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _keyway; printf '%s\\n' "\${COMPREPLY[@]}"`, 'bash', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => l.length > 0);
  } finally {
    i.cleanup();
  }
}

test('the bash completion script loads and registers a completion for keyway', () => {
  const r = spawnSync('bash', ['-c', `source <("${process.execPath}" "${CLI}" completion bash) && complete -p keyway`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'complete -o default -F _keyway keyway');
});

test('bash completes commands, nested subcommands and options from the command tree', () => {
  assert.deepEqual(bashComplete(['keyway', 'sec']), ['secret']);
  assert.deepEqual(bashComplete(['keyway', 'secret', 'cr']), ['create']);
  assert.ok(bashComplete(['keyway', 'podman', '']).includes('driver-opts'));
  assert.ok(bashComplete(['keyway', 'podman', 'driver-opts', '--']).includes('--no-fast-lookup'));
  // Options that take a value leave the word to the shell's file completion.
  assert.deepEqual(bashComplete(['keyway', '--config', '']), []);
  // Every command the CLI has shows up, including this one.
  assert.deepEqual(bashComplete(['keyway', 'comp']), ['completion']);
});

test('the zsh completion script parses and registers _keyway with compinit', (t) => {
  const skip = ensureTools([['zsh', 'zsh']]);
  if (skip) return t.skip(skip);
  const i = testInstance(t);
  const file = join(i.dir, '_keyway');
  writeFileSync(file, script('zsh'));
  assert.equal(spawnSync('zsh', ['-n', file]).status, 0);
  const r = spawnSync('zsh', ['-fc', `autoload -U compinit && compinit -u -d "$2/zcompdump" && source "$1" && print -r -- $_comps[keyway]`, 'zsh', file, i.dir], { encoding: 'utf8', env: { ...i.env } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '_keyway');
});

test('the fish completion script declares completions for every command', () => {
  const text = script('fish');
  if (hasTool('fish')) assert.equal(spawnSync('fish', ['--no-execute', '-c', text]).status, 0);
  const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
  // A helper function, then only `complete -c keyway ...` lines, each with balanced quotes.
  const end = lines.indexOf('end');
  assert.ok(lines[0]?.startsWith('function __keyway_path') && end > 0);
  for (const l of lines.slice(end + 1)) {
    assert.match(l, /^complete -c keyway /);
    assert.equal((l.replace(/'\\''/g, '').match(/'/g) ?? []).length % 2, 0, l);
  }
  assert.ok(text.includes(`-a 'secret'`) && text.includes(`-a 'completion'`) && text.includes(`-l 'no-fast-lookup'`));
});

test('an unknown shell is a usage error that names it', () => {
  const i = makeInstance();
  try {
    const r = i.run(['completion', 'tcsh']);
    assert.equal(r.status, 2);
    assert.match(r.stderr.toString(), /unknown shell "tcsh"/);
  } finally {
    i.cleanup();
  }
});
