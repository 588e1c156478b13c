// Memory: `keyway serve` RSS idle (with root's default frontends: admin API, Docker, CSI, Podman
// lookup, on private sockets) and with 10,000 named secrets and 500 live mount sets, against a bare
// Node process that only waits (the runtime's floor).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Row, Scenario } from './lib.js';
import { existsSync, writeFileSync } from 'node:fs';
import { instance, isRoot, post, closeAgents, rssKiB } from './helpers.js';
import { unmountRoot } from '../src/delivery/mount-root.js';
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
      // Root's defaults turn Docker and CSI on; the sockets move into the instance's directory.
      if (isRoot()) writeFileSync(join(k.dir, 'keyway.toml'), `[docker]\nenabled = true\nsocket = "${join(k.dir, 'docker.sock')}"\n[csi]\nenabled = true\nsocket = "${join(k.dir, 'csi.sock')}"\n`);
      const idle = await k.serve();
      await settle();
      const idleKiB = rssKiB(idle.pid ?? 0);
      idle.kill('SIGTERM');
      await new Promise((r) => idle.on('exit', r));
      // 10,000 named secrets, each a reference to one local value.
      k.cli(['secret', 'create', 'base', '-'], Buffer.alloc(64, 0x62));
      const db = openDb(join(k.dir, 'state'));
      const insert = db.prepare('INSERT INTO secrets (id, name, ref, labels, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 10_000; i++) insert.run(newId(), `s${i}`, 'ref+secret://base', '{"team":"bench"}', nowIso(), nowIso());
      })();
      db.close();
      const full = await k.serve();
      for (let i = 0; i < 50; i++) await post(k.adminSocket, '/v1/resolve', JSON.stringify({ target: `s${i}` }));
      await settle();
      const fullKiB = rssKiB(full.pid ?? 0);
      full.kill('SIGTERM');
      await new Promise((r) => full.on('exit', r));
      // And 500 live mount sets through the volume plugin API, as Docker would mount them.
      let setsKiB = NaN;
      if (isRoot()) {
        const dockerSock = join(k.dir, 'docker.sock');
        writeFileSync(join(k.dir, 'keyway.toml'), `[docker]\nenabled = true\nsocket = "${dockerSock}"\n[csi]\nenabled = false\n`);
        const withSets = await k.serve();
        for (let i = 0; i < 50 && !existsSync(dockerSock); i++) await new Promise((r) => setTimeout(r, 100));
        const ids = Array.from({ length: 500 }, (_, i) => ({ Name: `s${i}`, ID: `m${i}` }));
        for (const body of ids) await post(dockerSock, '/VolumeDriver.Mount', JSON.stringify(body));
        await settle();
        setsKiB = rssKiB(withSets.pid ?? 0);
        for (const body of ids) await post(dockerSock, '/VolumeDriver.Unmount', JSON.stringify(body));
        withSets.kill('SIGTERM');
        await new Promise((r) => withSets.on('exit', r));
        await unmountRoot(join(k.dir, 'run')).catch(() => undefined);
      }
      const mk = (scenario: string, kib: number, target?: number): Row => ({
        scenario,
        keyway: `keyway serve RSS, ${(kib / 1024).toFixed(1)} MiB`,
        baseline: `bare node RSS, ${(bareKiB / 1024).toFixed(1)} MiB`,
        keywayMedianMs: NaN,
        baselineMedianMs: NaN,
        keywayP99Ms: NaN,
        ratio: kib / bareKiB,
        reps: 1,
        ...(target !== undefined ? { target } : {}),
      });
      return [mk(isRoot() ? 'memory idle, root frontends' : 'memory idle', idleKiB, 1.5), mk('memory, 10,000 named secrets', fullKiB), mk('memory, + 500 live mount sets', setsKiB, 2.0)];
    } finally {
      closeAgents();
      bare.kill('SIGKILL');
      k.cleanup();
    }
  },
};
