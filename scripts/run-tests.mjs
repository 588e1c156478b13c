// Runs node's test runner over every *.test.ts under the given folders (default: test/).
// Node 20's --test does not expand globs or know .ts, so the files are listed here.
//
// Skips must not hide failures: the closing summary counts skipped tests and names each with its
// reason, and in CI (CI=true: root, every tool installed by scripts/setup.sh) any skip fails the run,
// because there a root- or tool-gated test that skips is a test that silently stopped testing.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

// Build once here when src/ is newer than dist/, so parallel test files do not each start a build.
const built = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import { ensureBuilt } from './test/helpers/cli.ts'; ensureBuilt();"], { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
if (built.status !== 0) process.exit(built.status ?? 1);

const ci = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const work = mkdtempSync(join(tmpdir(), 'keyway-test-outcomes-'));
const outcomesFile = join(work, 'outcomes.jsonl');
const reporter = new URL('./test-outcomes.mjs', import.meta.url).href;
// Node's own default for the human-readable part: spec on a terminal, TAP (with its `# pass N` /
// `# fail N` summary) otherwise; naming a second reporter would otherwise turn that default off.
const human = process.stdout.isTTY ? 'spec' : 'tap';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-reporter=${human}`, '--test-reporter-destination=stdout', `--test-reporter=${reporter}`, `--test-reporter-destination=${outcomesFile}`, ...flags, ...files],
  { stdio: 'inherit' },
);

let rows = [];
try {
  rows = readFileSync(outcomesFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
} catch {
  // the runner died before reporting anything: its own exit status says so below
}
rmSync(work, { recursive: true, force: true });

const count = (o) => rows.filter((x) => x.outcome === o).length;
const skipped = rows.filter((x) => x.outcome === 'skip');
console.log('');
if (skipped.length > 0) {
  console.log(`skipped tests (${skipped.length}):`);
  for (const s of skipped) console.log(`  - ${s.file}: ${s.name} — ${s.reason || '(no reason given)'}`);
}
console.log(`${count('pass')} passed, ${count('fail')} failed, ${skipped.length} skipped${count('todo') ? `, ${count('todo')} todo` : ''}`);

let status = r.status ?? 1;
if (rows.length === 0) {
  console.log('no test reported an outcome: treating the run as failed');
  status = status || 1;
}
if (ci && skipped.length > 0) {
  console.log(`CI=true: ${skipped.length} test(s) skipped; on CI every root- and tool-gated test must run (scripts/setup.sh installs the tools, the runner is root)`);
  status = status || 1;
}
process.exit(status);
