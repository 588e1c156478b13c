// Memory: `keyway serve` RSS idle and with 10,000 named secrets, against a bare Node process that
// only waits (the runtime's floor).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Row, Scenario } from './lib.js';
import { instance, post, closeAgents, rssKiB } from './helpers.js';
import { openDb } from '../src/store/db.js';
import { nowIso } from '../src/store/db.js';
import { newId } from '../src/store/ids.js';

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1500));
}

export const memory: Scenario = {
  name: 'memory',
  async run(): Promise<Row[]> {
    const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: 'ignore' });
    const k = instance();
    try {
      await settle();
      const bareKiB = rssKiB(bare.pid ?? 0);
      const idle = await k.serve();
      await settle();
      const idleKiB = rssKiB(idle.pid ?? 0);
      idle.kill('SIGTERM');
      await new Promise((r) => idle.on('exit', r));
      // 10,000 named secrets (references; listing and serving them is what costs memory).
      const db = openDb(join(k.dir, 'state'));
      const insert = db.prepare('INSERT INTO secrets (id, name, ref, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 10_000; i++) insert.run(newId(), `s${i}`, `ref+secret://s${(i + 1) % 10_000}`, '{"team":"bench"}', nowIso(), nowIso());
      })();
      db.close();
      const full = await k.serve();
      for (let i = 0; i < 50; i++) await post(k.adminSocket, '/v1/resolve', JSON.stringify({ target: 'ref+local://missing' })).catch(() => undefined);
      await settle();
      const fullKiB = rssKiB(full.pid ?? 0);
      const mk = (scenario: string, kib: number): Row => ({
        scenario,
        keyway: 'keyway serve RSS',
        baseline: 'bare node RSS',
        keywayMedianMs: NaN,
        baselineMedianMs: NaN,
        keywayP99Ms: NaN,
        ratio: kib / bareKiB,
        reps: 1,
        note: `${(kib / 1024).toFixed(1)} MiB vs ${(bareKiB / 1024).toFixed(1)} MiB`,
      });
      return [mk('memory idle', idleKiB), mk('memory, 10,000 named secrets', fullKiB)];
    } finally {
      closeAgents();
      bare.kill('SIGKILL');
      k.cleanup();
    }
  },
};
