// `keyway serve` holds V8's optimizing compilers while it starts and releases them once serving;
// other commands leave V8's flags alone. V8's --trace-opt prints a `[marking ...` line for each
// function it queues for optimization, unbuffered, so merged with stderr it shows when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { CLI, REPO, testInstance } from '../helpers/cli.js';
import { operatorSetJitTiers } from '../../src/core/jit.js';

test('an operator JIT tier flag in argv or NODE_OPTIONS is detected, other flags are not', () => {
  for (const f of ['--no-maglev', '--maglev', '--turbofan', '--no-turbofan', '--no_turbofan', '--jitless', '--max-opt=2', '--max_opt=0', '--no-opt', '--no-sparkplug', '--always-turbofan', '--maglev-inlining']) {
    assert.equal(operatorSetJitTiers([f], undefined), true, f);
  }
  assert.equal(operatorSetJitTiers([], '--enable-source-maps --no-maglev'), true);
  for (const f of ['--max-old-space-size=512', '--max-semi-space-size=8', '--optimize-for-size', '--enable-source-maps', '--trace-opt', '--expose-gc']) {
    assert.equal(operatorSetJitTiers([f], f), false, f);
  }
  assert.equal(operatorSetJitTiers([], undefined), false);
});

/** In a fresh node: hold, make `hot` hot, release, keep it hot. Which phase marked it for optimization. */
function markedWhen(execArgv: readonly string[] = []): { held: boolean; released: boolean } {
  const script = `
    import { holdOptimizingCompilers, releaseOptimizingCompilers } from ${JSON.stringify(join(REPO, 'src', 'core', 'jit.ts'))};
    function hot(x) { return (x * 31) ^ (x >>> 3); }
    const run = () => { let s = 0; for (let i = 0; i < 200000; i++) s += hot(i); return s; };
    holdOptimizingCompilers();
    run(); run();
    console.log('RELEASED');
    releaseOptimizingCompilers();
    run(); run();`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...execArgv, '--trace-opt', '--input-type=module', '-e', script], { cwd: REPO, env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [held = '', released = ''] = r.stdout.split('RELEASED');
  const marked = (s: string): boolean => /^\[marking \S+ <JSFunction hot /m.test(s);
  return { held: marked(held), released: marked(released) };
}

test('held compilers optimize nothing, and released ones optimize hot code again', () => {
  assert.deepEqual(markedWhen(), { held: false, released: true });
});

test('an operator JIT flag leaves the compilers as the operator set them', () => {
  assert.equal(markedWhen(['--maglev']).held, true);
});

// Marks in the trace where keyway changes V8's flags. Node resolves the entry point before keyway's
// first line runs, and below a long install path that alone makes V8 optimize a path function or
// two; what keyway answers for starts at the hold.
const FLAG_MARKS = `data:text/javascript,
  const v8 = process.getBuiltinModule('node:v8');
  const { writeSync } = process.getBuiltinModule('node:fs');
  const set = v8.setFlagsFromString;
  v8.setFlagsFromString = (f) => { writeSync(1, '[V8 flags ' + f + ']\\n'); set(f); };`;

test('serve optimizes nothing from its hold until it serves, and its request paths once serving', async (t) => {
  const i = testInstance(t, 'kw-jit-');
  assert.equal(i.run(['secret', 'create', 'x', '-'], { input: 'v' }).status, 0);
  // One pipe for V8's trace (stdout) and the log (stderr), so their order is kept.
  const child = spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, '--trace-opt', '--import', FLAG_MARKS, CLI, 'serve'], { env: i.env, stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  while (!out.includes('keyway serving')) {
    assert.ok(child.exitCode === null && Date.now() < deadline, `serve did not start: ${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const held = out.indexOf('[V8 flags --no-maglev --no-turbofan]');
  assert.ok(held >= 0, 'serve did not hold the compilers');
  assert.deepEqual(out.slice(held, out.indexOf('keyway serving')).match(/^\[marking .*/gm) ?? [], []);
  assert.match(out.slice(held), /^\[V8 flags --maglev --turbofan\]$/m);
  // A busy admin API: its request path gets hot and, the compilers released, optimized.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const socketPath = join(i.runtimeDir, 'keyway.sock');
  const served = out.length;
  for (let n = 0; n < 1500 && !/^\[marking /m.test(out.slice(served)); n++) {
    await new Promise<void>((resolve, reject) => {
      const req = request({ agent, socketPath, path: '/v1/resolve', method: 'POST' }, (res) => res.resume().on('end', resolve));
      req.on('error', reject);
      req.end('{"target":"x"}');
    });
  }
  assert.match(out.slice(served), /^\[marking /m);
});

test('short commands leave V8 flags alone: Node accepts the code cache of every built-in module they load', (t) => {
  const i = testInstance(t, 'kw-jit-');
  const rejected = (args: string[]): string[] => {
    const r = i.run(args, { input: 'v', env: { NODE_DEBUG_NATIVE: 'CODE_CACHE' } });
    return r.stderr.toString().match(/^Code cache of .* is rejected$/gm) ?? [];
  };
  assert.deepEqual(rejected(['secret', 'create', 'x', '-']), []);
  assert.deepEqual(rejected(['get', 'x']), []);
  assert.deepEqual(rejected(['version']), []);
  // What the check would see: serve (here only its help) holds the compilers, a flag change.
  assert.notDeepEqual(rejected(['serve', '--help']), []);
});
