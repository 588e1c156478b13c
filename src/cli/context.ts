// Runs a command body with the composition-root context, loaded lazily so that `--help` and light
// commands do not pay for SQLite and providers.
import type { Command } from 'commander';
import type { Context, GlobalOptions } from '../daemon/context.js';
import type { LogLevel } from '../core/logger.js';

export function globalsOf(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ config?: string; stateDir?: string; runtimeDir?: string; logLevel?: string; logFormat?: string }>();
  return {
    ...(o.config !== undefined ? { config: o.config } : {}),
    ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
    ...(o.runtimeDir !== undefined ? { runtimeDir: o.runtimeDir } : {}),
    ...(o.logLevel !== undefined ? { logLevel: o.logLevel } : {}),
    ...(o.logFormat !== undefined ? { logFormat: o.logFormat } : {}),
  };
}

export async function withContext<T>(cmd: Command, fn: (ctx: Context) => Promise<T>, defaultLevel: LogLevel = 'warn'): Promise<T> {
  const { openContext, usingContext } = await import('../daemon/context.js');
  return usingContext(openContext(globalsOf(cmd), defaultLevel), fn);
}

/**
 * Before keyway re-executes itself in a user namespace, checks the runtime and state dirs' parents
 * from the host's view: inside, directories owned outside the namespace hide their real owner.
 */
export async function checkDirsBeforeEntering(cmd: Command): Promise<void> {
  const { loadSettings } = await import('../daemon/context.js');
  const { checkAncestors } = await import('../core/safe-dir.js');
  const s = loadSettings(globalsOf(cmd));
  checkAncestors(s.runtimeDir, 'runtime dir');
  checkAncestors(s.stateDir, 'state dir');
}
