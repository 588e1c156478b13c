// CLI start-up: `keyway version` and `keyway get NAME` (local provider, no daemon) as whole
// processes, against a bare `node -e ''` started the same way: what every script, `keyway run`
// and daemon-less Podman lookup pays before doing any work.
import { spawn } from 'node:child_process';
import { runPair, type Row, type Scenario } from './lib.js';
import { CLI, instance } from './helpers.js';

const VALUE = Buffer.from('cli-bench-value');

/** Runs a process to completion; rejects on a non-zero exit or (when given) unexpected stdout. */
function exec(args: readonly string[], env: NodeJS.ProcessEnv, expect?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString()}`));
      else if (expect && !Buffer.concat(out).equals(expect)) reject(new Error(`${args.join(' ')}: unexpected output`));
      else resolve();
    });
  });
}

const bare = (env: NodeJS.ProcessEnv) => (): Promise<void> => exec(['-e', ''], env);

export const cliVersion: Scenario = {
  name: 'cli-version',
  async run(): Promise<Row[]> {
    const k = instance();
    try {
      return [
        await runPair({
          name: 'keyway version',
          keywayLabel: 'node dist/cli.js version',
          baselineLabel: "node -e ''",
          warmup: 3,
          reps: 41,
          target: 1.5,
          keyway: () => exec([CLI, 'version'], k.env),
          baseline: bare(k.env),
        }),
      ];
    } finally {
      k.cleanup();
    }
  },
};

export const cliGet: Scenario = {
  name: 'cli-get',
  async run(): Promise<Row[]> {
    const k = instance();
    try {
      k.cli(['secret', 'create', 'bench', '-'], VALUE);
      return [
        await runPair({
          name: 'keyway get NAME (local)',
          keywayLabel: 'node dist/cli.js get NAME, no daemon',
          baselineLabel: "node -e ''",
          warmup: 3,
          reps: 41,
          target: 2.0,
          keyway: () => exec([CLI, 'get', 'bench'], k.env, VALUE),
          baseline: bare(k.env),
        }),
      ];
    } finally {
      k.cleanup();
    }
  },
};
