// Mount-set write of N files (record, atomic ..data layout, O_EXCL|O_NOFOLLOW, fchown, then release
// with overwrite) vs plain writeFileSync of the same files into a fresh dir on the same tmpfs and rm;
// and one rotation through the ..data swap vs write-temp-then-rename of one file (the floor of any
// atomic replacement).
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Skip, runPair, type Row, type Scenario } from './lib.js';
import { isRoot } from './helpers.js';
import { silentLogger } from '../src/core/logger.js';
import { SecretValue } from '../src/core/secret-value.js';
import { openDb } from '../src/store/db.js';
import { openDelivery } from '../src/delivery/open.js';
import { unmountRoot } from '../src/delivery/mount-root.js';

const N = 10;
const SIZE = 4096;

export const mountSetWrite: Scenario = {
  name: 'mount-set',
  async run(): Promise<Row[]> {
    if (!isRoot()) throw new Skip('needs root to mount the tmpfs root');
    const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-'));
    const runtimeDir = join(dir, 'run');
    const db = openDb(join(dir, 'state'));
    const delivery = await openDelivery({ runtimeDir, db, logger: silentLogger() });
    const values = Array.from({ length: N }, (_, i) => SecretValue.copyOf(Buffer.alloc(SIZE, i)));
    const files = values.map((bytes, i) => ({ name: `secret-${i}`, bytes }));
    const rawRoot = join(delivery.root.path, 'raw');
    mkdirSync(rawRoot, { mode: 0o700 });
    let n = 0;
    try {
      const row = await runPair({
        name: `mount set of ${N} × ${SIZE / 1024} KiB files`,
        keywayLabel: 'create + release (wiped)',
        baselineLabel: 'writeFileSync + rm -r',
        warmup: 20,
        reps: 200,
        keyway: async () => {
          const set = await delivery.manager.create('bench', files);
          set.release();
        },
        baseline: async () => {
          const d = join(rawRoot, String(n++));
          mkdirSync(d, { mode: 0o700 });
          for (const f of files) writeFileSync(join(d, f.name), f.bytes.expose(), { mode: 0o400 });
          rmSync(d, { recursive: true });
        },
      });
      return [row];
    } finally {
      rmSync(rawRoot, { recursive: true, force: true });
      for (const v of values) v.zero();
      db.close();
      await unmountRoot(runtimeDir);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export const mountSetRotate: Scenario = {
  name: 'mount-set-rotate',
  async run(): Promise<Row[]> {
    if (!isRoot()) throw new Skip('needs root to mount the tmpfs root');
    const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-'));
    const runtimeDir = join(dir, 'run');
    const db = openDb(join(dir, 'state'));
    const delivery = await openDelivery({ runtimeDir, db, logger: silentLogger() });
    const value = SecretValue.copyOf(Buffer.alloc(SIZE, 0x61));
    const set = await delivery.manager.create('bench', [{ name: 'value', bytes: value }]);
    const rawRoot = join(delivery.root.path, 'raw');
    mkdirSync(rawRoot, { mode: 0o700 });
    try {
      const row = await runPair({
        name: `rotation of one ${SIZE / 1024} KiB file`,
        keywayLabel: 'atomic ..data swap',
        baselineLabel: 'writeFileSync tmp + rename',
        warmup: 50,
        reps: 500,
        keyway: async () => {
          await set.update([{ name: 'value', bytes: value }]);
        },
        baseline: async () => {
          writeFileSync(join(rawRoot, 'value.tmp'), value.expose(), { mode: 0o400 });
          renameSync(join(rawRoot, 'value.tmp'), join(rawRoot, 'value'));
        },
      });
      return [row];
    } finally {
      set.release();
      value.zero();
      db.close();
      await unmountRoot(runtimeDir);
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
