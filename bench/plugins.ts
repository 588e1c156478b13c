// Plugin host scenarios. serve: a lookup through the TS example plugin (one long-lived sandboxed
// process, frames over pipes) vs a line echoed by a `cat` process over the same kind of pipes (the
// transport's floor). oneshot: a lookup through the POSIX shell example (hash check, prlimit,
// bubblewrap, sh) vs spawning `cat` on the same file (the floor of starting any process).
// The absolute targets from the plugin issue (serve median ≤ 0.5 ms, oneshot ≤ 15 ms) are printed
// in the note column; pass/fail is never asserted.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Skip, runPair, table, type Row, type Scenario } from './lib.js';
import { silentLogger } from '../src/core/logger.js';
import type { PluginEntry } from '../src/plugins/entry.js';
import { hashFile } from '../src/plugins/host/executable.js';
import { PluginHost } from '../src/plugins/host/host.js';
import { bwrapAvailable } from '../src/plugins/host/sandbox.js';
import type { HostDeps } from '../src/plugins/host/launcher.js';

const REPO = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..'));
const NODE_MODULES = realpathSync(join(REPO, 'node_modules'));
const never = new AbortController().signal;

function deps(): HostDeps {
  return { logger: silentLogger(), maxPayloadBytes: 1024 * 1024, hide: [], isRoot: process.getuid?.() === 0 };
}

function entry(name: string, path: string, over: Partial<PluginEntry>): PluginEntry {
  return { name, path, sha256: hashFile(path), lifecycle: 'oneshot', dialect: 'keyway', allowNetwork: false, env: {}, timeoutMs: 10_000, sandbox: true, roBinds: [], optionKeys: [], ...over };
}

function note(r: Row, targetMs: number): Row {
  return { ...r, note: `median ≤ ${targetMs} ms ${r.keywayMedianMs <= targetMs ? '✓' : '✗'}` };
}

export const pluginServe: Scenario = {
  name: 'plugin-serve',
  async run() {
    if (!bwrapAvailable()) throw new Skip('bubblewrap is not installed');
    const host = new PluginHost(
      entry('memory', join(REPO, 'examples/plugins/memory-serve/plugin.ts'), {
        lifecycle: 'serve',
        env: { NODE_OPTIONS: `--import=${join(NODE_MODULES, 'tsx/dist/esm/index.mjs')}` },
        roBinds: [REPO, NODE_MODULES],
      }),
      deps(),
    );
    let cat: ChildProcessWithoutNullStreams | undefined;
    let waiter: ((b: Buffer) => void) | undefined;
    const row = await runPair({
      name: 'plugin-serve',
      keywayLabel: 'lookup via serve plugin (TS, bwrap)',
      baselineLabel: 'line echoed by cat over pipes',
      warmup: 200,
      reps: 2000,
      async setup() {
        cat = spawn('cat', [], { stdio: 'pipe' });
        cat.stdout.on('data', (b: Buffer) => waiter?.(b));
      },
      async keyway() {
        (await host.lookup('demo/1', {}, never)).value.zero();
      },
      baseline() {
        return new Promise<void>((resolve) => {
          waiter = () => resolve();
          cat?.stdin.write('{"v":1,"id":"1","ok":true,"size":12}\n');
        });
      },
      async teardown() {
        cat?.stdin.end();
        await host.close();
      },
    });
    return [note(row, 0.5)];
  },
};

export const pluginOneshot: Scenario = {
  name: 'plugin-oneshot',
  async run() {
    if (!bwrapAvailable()) throw new Skip('bubblewrap is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-'));
    // The plugin runs as nobody: the directory it serves must be readable by others.
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'pw'), 'hunter2-bench', { mode: 0o644 });
    const host = new PluginHost(entry('files', join(REPO, 'examples/plugins/files-oneshot/keyway-files'), { env: { FILES_DIR: dir }, roBinds: [dir] }), deps());
    const catFile = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const c = spawn('cat', [join(dir, 'pw')], { stdio: ['ignore', 'pipe', 'ignore'] });
        c.stdout.resume();
        c.once('error', reject);
        c.once('close', () => resolve());
      });
    try {
      const row = await runPair({
        name: 'plugin-oneshot',
        keywayLabel: 'lookup via oneshot shell plugin (bwrap)',
        baselineLabel: 'spawn cat on the file',
        warmup: 10,
        reps: 100,
        async keyway() {
          (await host.lookup('pw', {}, never)).value.zero();
        },
        baseline: catFile,
      });
      const bare = new PluginHost(entry('files', join(REPO, 'examples/plugins/files-oneshot/keyway-files'), { env: { FILES_DIR: dir }, sandbox: false }), deps());
      const row2 = await runPair({
        name: 'plugin-oneshot-nosandbox',
        keywayLabel: 'lookup via oneshot shell plugin (no sandbox)',
        baselineLabel: 'spawn cat on the file',
        warmup: 10,
        reps: 100,
        async keyway() {
          (await bare.lookup('pw', {}, never)).value.zero();
        },
        baseline: catFile,
      });
      return [note(row, 15), note(row2, 15)];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export const pluginScenarios: readonly Scenario[] = [pluginServe, pluginOneshot];

// `node --import tsx bench/plugins.ts` runs just these.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows: Row[] = [];
  for (const s of pluginScenarios) rows.push(...(await s.run()));
  console.log(table(rows));
}
