// CLI cold path: `keyway version` and `keyway secret ls` against a bare `node -e 0`, on the Node
// running this script, with Node's compile cache (as the CLI enables it) and without it
// (NODE_DISABLE_COMPILE_CACHE=1). Runs alternate between the sides; prints medians and ratios.
// Usage: node scripts/bench-cold-start.mjs [ROUNDS]   (after npm run build)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const rounds = Number(process.argv[2] ?? 30);
const cli = join(import.meta.dirname, '..', 'dist', 'cli.js');
const home = mkdtempSync(join(tmpdir(), 'kw-cold-'));
const env = { PATH: process.env.PATH, HOME: home, KEYWAY_STATE_DIR: join(home, 'state'), KEYWAY_RUNTIME_DIR: join(home, 'run'), KEYWAY_CONFIG: join(home, 'none.toml') };
const noCache = { ...env, NODE_DISABLE_COMPILE_CACHE: '1' };
const sides = {
  'node -e 0': [['-e', '0'], env],
  'keyway version (compile cache)': [[cli, 'version'], env],
  'keyway version (no cache)': [[cli, 'version'], noCache],
  'keyway secret ls (compile cache)': [[cli, 'secret', 'ls'], env],
  'keyway secret ls (no cache)': [[cli, 'secret', 'ls'], noCache],
};
const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
function once(name) {
  const [args, e] = sides[name];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !args.includes('ls')) throw new Error(`${name} failed: ${r.stderr}`);
  return ms;
}
for (const name of Object.keys(sides)) once(name); // warm-up; fills the compile cache
for (let i = 0; i < rounds; i++) {
  const order = i % 2 ? Object.keys(sides).reverse() : Object.keys(sides);
  for (const name of order) times[name].push(once(name));
}
rmSync(home, { recursive: true, force: true });
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const base = median(times['node -e 0']);
console.log(`Node ${process.version}, ${rounds} rounds`);
for (const [name, t] of Object.entries(times)) console.log(`${name.padEnd(34)} ${median(t).toFixed(1).padStart(7)} ms  ratio ${(median(t) / base).toFixed(2)}`);
