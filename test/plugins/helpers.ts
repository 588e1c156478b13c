// Shared fixtures for plugin tests: temp dirs, shell plugins written on the fly, entries, a logger
// whose output the test can search for leaked secrets, and a zombie check.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../src/core/logger.js';
import type { PluginEntry } from '../../src/plugins/entry.js';
import { hashFile } from '../../src/plugins/host/executable.js';
import type { HostDeps, LaunchInfo } from '../../src/plugins/host/launcher.js';
import { ensureTools } from '../helpers/tools.js';

export const REPO = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
export const NODE_MODULES = realpathSync(join(REPO, 'node_modules'));
export const TSX_IMPORT = join(NODE_MODULES, 'tsx', 'dist', 'esm', 'index.mjs');
export const FILES_PLUGIN = join(REPO, 'examples', 'plugins', 'files-oneshot', 'keyway-files');
export const MEMORY_PLUGIN = join(REPO, 'examples', 'plugins', 'memory-serve', 'plugin.ts');

export function tempDir(t: { after(fn: () => void): void }, prefix = 'keyway-plugins-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  // Plugins run as nobody: what they are given to read must be reachable by others.
  chmodSync(d, 0o755);
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Writes an executable script (0755) and returns its path. */
export function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  chmodSync(p, 0o755);
  return p;
}

export interface CapturedLogger {
  readonly logger: Logger;
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { logger: createLogger('debug', stream), text: () => chunks.join('') };
}

export function entryFor(name: string, path: string, over: Partial<PluginEntry> = {}): PluginEntry {
  return {
    name,
    path,
    sha256: hashFile(path),
    lifecycle: 'oneshot',
    dialect: 'keyway',
    allowNetwork: false,
    env: {},
    timeoutMs: 5_000,
    sandbox: true,
    roBinds: [],
    optionKeys: [],
    ...over,
  };
}

/** Entry for the TS example: node needs the tsx loader and the repo visible inside the sandbox. */
export function memoryEntry(name = 'memory', over: Partial<PluginEntry> = {}): PluginEntry {
  return entryFor(name, MEMORY_PLUGIN, {
    lifecycle: 'serve',
    env: { NODE_OPTIONS: `--import=${TSX_IMPORT}` },
    roBinds: [REPO, NODE_MODULES],
    ...over,
  });
}

export function deps(logger: Logger, over: Partial<HostDeps> = {}, launches?: LaunchInfo[]): HostDeps {
  return {
    logger,
    maxPayloadBytes: 1024 * 1024,
    hide: [],
    isRoot: process.getuid?.() === 0,
    killGraceMs: 200,
    ...(launches ? { onLaunch: (i: LaunchInfo) => void launches.push(i) } : {}),
    ...over,
  };
}

/** Children of this process that are zombies (state Z), by pid. */
export function zombies(): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z' && Number(rest[1]) === process.pid) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** Pids of live processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmd.includes(marker) && state !== 'Z') out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/** Why sandboxed plugins cannot run here (no bwrap, not even after installing it), or undefined. */
export function canSandbox(): string | undefined {
  return ensureTools([['bwrap', 'bubblewrap']]) || undefined;
}

/**
 * Zombie children that stay zombies: a child that has just exited is a zombie until Node's SIGCHLD
 * handler reaps it, so this polls for up to a second before reporting.
 */
export async function lastingZombies(): Promise<number[]> {
  let z = zombies();
  for (let i = 0; i < 50 && z.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    z = zombies();
  }
  return z;
}

/** Processes with `marker` in their command line that are still there after up to a second. */
export async function lastingProcesses(marker: string): Promise<number[]> {
  let p = processesWith(marker);
  for (let i = 0; i < 50 && p.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    p = processesWith(marker);
  }
  return p;
}
