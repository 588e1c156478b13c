// Runs node's test runner over every *.test.ts under the given folders (default: test/).
// Node 20's --test does not expand globs or know .ts, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
function walk(p, out) {
  if (statSync(p).isFile()) { if (p.endsWith('.test.ts')) out.push(p); return out; }
  for (const e of readdirSync(p).sort()) if (e !== 'node_modules' && e !== 'fixtures') walk(join(p, e), out);
  return out;
}
const files = (roots.length ? roots : ['test']).flatMap((r) => walk(r, []));
if (files.length === 0) { console.error('no test files found'); process.exit(1); }
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...flags, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
