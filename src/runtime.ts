// Imported by the CLI entry point (src/cli.ts) right after src/cli/hold-compilers.ts, which only
// sets V8 flags for `serve`. It refuses a Node.js that keyway does not support before the CLI's
// modules load, and turns on Node's on-disk compile cache, which spares every later CLI start most
// of the time spent parsing and compiling keyway's modules.
// No static import here may need a newer Node than the one being refused. Node's own modules come
// through process.getBuiltinModule, after the version check (older Node lacks it), not through
// import: an ES import of node:fs builds its namespace, which loads fs/promises and readline, and
// every CLI start would pay for them.

export const MIN_NODE = [22, 13] as const;

/** True for Node versions keyway runs on: 22.13 or later (node:sqlite without a flag). */
export function supportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
}

/**
 * The compile cache holds V8 code that Node loads and runs, so it may live only where no other user
 * can write: under a cache (or home) dir that we own and that is not group/other-writable.
 */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { lstatSync } = process.getBuiltinModule('node:fs');
  const { homedir } = process.getBuiltinModule('node:os');
  const { join } = process.getBuiltinModule('node:path');
  const base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : join(env.HOME?.startsWith('/') ? env.HOME : homedir(), '.cache');
  let parent = base;
  try {
    lstatSync(base);
  } catch {
    // ~/.cache not created yet: Node creates it below a home dir we trust.
    parent = join(base, '..');
  }
  try {
    const st = lstatSync(parent);
    if (!st.isDirectory() || st.uid !== process.geteuid?.() || (st.mode & 0o022) !== 0) return undefined;
  } catch {
    return undefined;
  }
  return join(base, 'keyway', 'compile-cache');
}

if (!supportedNode(process.versions.node)) {
  process.stderr.write(`keyway: Node.js ${process.versions.node} is not supported; keyway needs Node.js 22 (22.13 or later) or 24. See the README's quick start for installing one.\n`);
  process.exit(1);
}

if (process.env.NODE_DISABLE_COMPILE_CACHE === undefined) {
  const dir = compileCacheDir();
  if (dir) process.getBuiltinModule('node:module').enableCompileCache(dir);
}
