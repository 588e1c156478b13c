// Delivery scenarios on the same noswap tmpfs: creating and releasing a mount set (exclusive
// create, fchown/fchmod, ..data swap, store record, zero-overwrite on release) vs a bare
// mkdir+writeFile+rm; and a rotation through the ..data swap vs write-temp-then-rename of one
// file (the floor of any atomic replacement).
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPair, Skip, type Row, type Scenario } from './lib.js';
import { silentLogger } from '../src/core/logger.js';
import { SecretValue } from '../src/core/secret-value.js';
import { ensureMountRoot, unmountRoot } from '../src/delivery/mount-root.js';
import { MountSetManager, type MountSet } from '../src/delivery/mount-sets.js';
import { openDb } from '../src/store/db.js';
import { MountSetsRepo } from '../src/store/mount-sets.js';

const VALUE = Buffer.alloc(4096, 0x61);

export const delivery: Scenario = {
  name: 'delivery',
  async run(): Promise<Row[]> {
    if (process.geteuid?.() !== 0) throw new Skip('needs root to mount the noswap tmpfs');
    const base = mkdtempSync(join(tmpdir(), 'keyway-bench-delivery-'));
    const runtimeDir = join(base, 'run');
    const root = await ensureMountRoot({ runtimeDir });
    const db = openDb(join(base, 'state'));
    const mgr = new MountSetManager({ root, repo: new MountSetsRepo(db), logger: silentLogger() });
    const plain = join(root.path, 'plain');
    mkdirSync(plain);
    let n = 0;
    let set: MountSet | undefined;
    try {
      const create = await runPair({
        name: 'delivery-create-release',
        keywayLabel: 'mount set create+release (4 KiB)',
        baselineLabel: 'mkdir+writeFile+rm',
        warmup: 50,
        reps: 500,
        async keyway() {
          const s = await mgr.create('bench', [{ name: 'value', bytes: SecretValue.copyOf(VALUE) }]);
          s.release();
        },
        async baseline() {
          const d = join(plain, String(n++));
          mkdirSync(d, { mode: 0o700 });
          writeFileSync(join(d, 'value'), VALUE, { mode: 0o400 });
          rmSync(d, { recursive: true });
        },
      });
      set = await mgr.create('bench', [{ name: 'value', bytes: SecretValue.copyOf(VALUE) }]);
      writeFileSync(join(plain, 'inplace'), VALUE);
      const current = set;
      const rotate = await runPair({
        name: 'delivery-rotate',
        keywayLabel: 'atomic ..data swap (4 KiB)',
        baselineLabel: 'writeFile tmp + rename',
        warmup: 50,
        reps: 500,
        async keyway() {
          await current.update([{ name: 'value', bytes: SecretValue.copyOf(VALUE) }]);
        },
        async baseline() {
          writeFileSync(join(plain, 'inplace.tmp'), VALUE, { mode: 0o400 });
          renameSync(join(plain, 'inplace.tmp'), join(plain, 'inplace'));
        },
      });
      return [create, rotate];
    } finally {
      set?.release();
      db.close();
      await unmountRoot(runtimeDir);
      rmSync(base, { recursive: true, force: true });
    }
  },
};
