// Rootless Podman: `podman run -v` with a keyway volume (a limited user's own `keyway serve`, its
// ramfs root inside Podman's rootless namespace) vs a Podman `local` volume holding the same file,
// run alternately by one real non-root user after warm-up. Target ≤ 1.10.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Skip, runPair, type Row, type Scenario } from './lib.js';
import { IMAGE, makeRootlessUser, rootlessSkipReason, type RootlessUser } from '../test/helpers/rootless.js';

const VALUE = Buffer.from('rootless-bench-value\0with a NUL');

function runWith(u: RootlessUser, volume: string): () => Promise<void> {
  return async () => {
    const r = u.run('podman', ['run', '--rm', '-v', `${volume}:/run/secrets/db`, IMAGE, 'cat', '/run/secrets/db']);
    if (r.status !== 0 || !r.stdout.equals(VALUE)) throw new Error(`podman run -v ${volume} failed: ${r.stderr.toString().slice(0, 500)}`);
  };
}

export const rootlessPodmanVolume: Scenario = {
  name: 'rootless-podman-volume',
  async run(): Promise<Row[]> {
    const skip = rootlessSkipReason();
    if (skip) throw new Skip(skip);
    const u = makeRootlessUser();
    const serve = u.spawnKeyway(['serve'], { stdio: 'ignore' });
    try {
      if (u.keyway(['secret', 'create', 'db', '-'], { input: VALUE }).status !== 0) throw new Error('keyway secret create failed');
      if (u.keyway(['podman', 'setup']).status !== 0) throw new Error('keyway podman setup failed');
      const end = Date.now() + 30_000;
      while (!existsSync(join(u.runtimeDir, 'docker.sock'))) {
        if (Date.now() > end) throw new Error('keyway serve did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
      u.podman(['volume', 'create', '--driver', 'keyway', '-o', 'secret=db', 'kwv']);
      // The baseline: a local volume directory holding the same bytes as a file named db.
      u.podman(['volume', 'create', 'localdir']);
      const fill = u.run('podman', ['run', '--rm', '-i', '-v', 'localdir:/d', IMAGE, 'sh', '-c', 'cat > /d/db'], { input: VALUE });
      if (fill.status !== 0) throw new Error(`filling the local volume failed: ${fill.stderr.toString()}`);
      const local = async (): Promise<void> => {
        const r = u.run('podman', ['run', '--rm', '-v', 'localdir:/run/secrets', IMAGE, 'cat', '/run/secrets/db']);
        if (r.status !== 0 || !r.stdout.equals(VALUE)) throw new Error(`podman run -v localdir failed: ${r.stderr.toString().slice(0, 500)}`);
      };
      const row = await runPair({
        name: 'rootless podman run -v',
        keywayLabel: "keyway volume (user's keyway serve, ramfs in Podman's namespace)",
        baselineLabel: 'podman local volume',
        warmup: 3,
        reps: 21,
        target: 1.1,
        keyway: runWith(u, 'kwv'),
        baseline: local,
      });
      return [row];
    } finally {
      serve.kill('SIGTERM');
      await new Promise((r) => (serve.exitCode !== null ? r(undefined) : serve.once('exit', r)));
      u.cleanup();
    }
  },
};
