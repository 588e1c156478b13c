// Podman's shell secret driver, driven the way Podman drives it: `keyway podman driver-opts` prints
// list=...,lookup=...,store=...,delete=... (keyway refuses paths with a comma, so splitting on commas
// is exact), and Podman runs each command with /bin/sh -c, the secret's id in SECRET_ID and its
// payload on stdin.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/** The driver-opts line as a map from operation to its shell command. */
export function driverOpts(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.trim().split(',')) {
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Runs one driver command; `env` replaces the minimal PATH-only environment. */
export function runDriverCommand(cmd: string, opts: { id?: string; input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<Buffer> {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? { PATH: '/usr/bin:/bin' }) };
  if (opts.id !== undefined) env.SECRET_ID = opts.id;
  return spawnSync('/bin/sh', ['-c', cmd], { env, input: opts.input ?? '', cwd: '/' });
}
