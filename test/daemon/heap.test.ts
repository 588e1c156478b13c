import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../helpers/cli.js';
import { operatorSizedYoungGen } from '../../src/daemon/heap.js';

test('an operator young-generation flag in argv or NODE_OPTIONS is detected, other flags are not', () => {
  assert.equal(operatorSizedYoungGen(['--max-semi-space-size=8'], undefined), true);
  assert.equal(operatorSizedYoungGen([], '--enable-source-maps --max_semi_space_size=4'), true);
  assert.equal(operatorSizedYoungGen([], '--semi-space-growth-factor=2'), true);
  assert.equal(operatorSizedYoungGen(['--max-old-space-size=512'], '--enable-source-maps'), false);
  assert.equal(operatorSizedYoungGen([], undefined), false);
});

/** Runs `body` in a fresh node after growing its young generation; prints new_space MiB before and after. */
function youngGen(body: string, nodeOptions = ''): { before: number; after: number; later: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    import { settleDaemonHeap } from ${JSON.stringify(join(REPO, 'src', 'daemon', 'heap.ts'))};
    const ns = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576;
    const churn = () => { let keep = []; for (let i = 0; i < 1e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; } };
    churn();
    const before = ns();
    ${body}
    const after = ns();
    churn();
    console.log(JSON.stringify({ before, after, later: ns() }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, env: { ...process.env, NODE_OPTIONS: nodeOptions }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { before: number; after: number; later: number };
}

test('settling the daemon heap shrinks the young generation start-up grew, and keeps it small under load', () => {
  const s = youngGen('settleDaemonHeap();');
  assert.ok(s.before >= 8, `start-up churn grew the young generation (${s.before} MiB)`);
  assert.ok(s.after <= 2, `shrunk to ${s.after} MiB`);
  assert.ok(s.later <= 4, `stayed at ${s.later} MiB under load`);
});

test('an operator semi-space size keeps the young generation growing as they asked', () => {
  const s = youngGen('settleDaemonHeap();', '--max-semi-space-size=8');
  assert.ok(s.later > 4, `grew again to ${s.later} MiB`);
});
