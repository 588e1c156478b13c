// `podman run --secret` through keyway's shell driver vs Podman's built-in file driver, run
// alternately in one private Podman after warm-up. Two rows: with `keyway serve` running (the
// lookup goes through bin/keyway-podman-lookup and the daemon's socket; target ≤ 1.05) and with no
// daemon (each lookup starts keyway's CLI, which opens the store itself; target ≤ 1.5).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { Skip, runPair, type Row, type Scenario } from './lib.js';
import { CLI, instance, type BenchInstance } from './helpers.js';
import { IMAGE, makePodman, podmanSkipReason, type PodmanEnv } from '../test/helpers/podman.js';

const VALUE = Buffer.from('p0dman-bench-value\0with a NUL');

function runWith(pm: PodmanEnv, name: string): () => Promise<void> {
  return async () => {
    const r = pm.run(['run', '--rm', '--secret', name, IMAGE, 'cat', `/run/secrets/${name}`]);
    if (r.status !== 0 || !r.stdout.equals(VALUE)) throw new Error(`podman run --secret ${name} failed: ${r.stderr.toString()}`);
  };
}

function createViaKeyway(kw: BenchInstance, pm: PodmanEnv, name: string, extra: string[]): void {
  const r = spawnSync(process.execPath, [CLI, 'podman', 'create', ...extra, name, '-'], { env: { ...kw.env, ...pm.env }, input: VALUE });
  if (r.status !== 0) throw new Error(`keyway podman create ${name}: ${r.stderr.toString()}`);
}

export const podmanRun: Scenario = {
  name: 'podman-run-secret',
  async run(): Promise<Row[]> {
    const skip = podmanSkipReason();
    if (skip) throw new Skip(skip);
    const kw = instance();
    let pm: PodmanEnv | undefined;
    let daemon: ChildProcess | undefined;
    try {
      pm = makePodman('keyway-bench-podman-');
      pm.ok(['secret', 'create', 'filedrv', '-'], { input: VALUE });
      createViaKeyway(kw, pm, 'kwfast', []);
      createViaKeyway(kw, pm, 'kwnode', ['--no-fast-lookup']);
      const p = pm;
      daemon = await kw.serve();
      const fast = await runPair({
        name: 'podman run --secret (daemon)',
        keywayLabel: 'shell driver: keyway-podman-lookup → keyway serve',
        baselineLabel: 'podman file driver',
        warmup: 3,
        reps: 21,
        target: 1.05,
        keyway: runWith(p, 'kwfast'),
        baseline: runWith(p, 'filedrv'),
      });
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon?.once('exit', r));
      daemon = undefined;
      const slow = await runPair({
        name: 'podman run --secret (no daemon)',
        keywayLabel: 'shell driver: keyway podman lookup in-process',
        baselineLabel: 'podman file driver',
        warmup: 2,
        reps: 15,
        target: 1.5,
        keyway: runWith(p, 'kwnode'),
        baseline: runWith(p, 'filedrv'),
      });
      return [fast, slow];
    } finally {
      daemon?.kill('SIGKILL');
      pm?.cleanup();
      kw.cleanup();
    }
  },
};
