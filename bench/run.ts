// `npm run bench [-- NAME...]`: runs every scenario (or those named), prints one table, writes
// bench/results/latest.json with the machine it ran on.
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { Skip, table, type Row } from './lib.js';
import { scenarios } from './scenarios.js';

const wanted = process.argv.slice(2);
const rows: Row[] = [];
const skipped: { scenario: string; reason: string }[] = [];
const started = Date.now();
for (const s of scenarios) {
  if (wanted.length > 0 && !wanted.includes(s.name)) continue;
  process.stderr.write(`bench: ${s.name} ...\n`);
  try {
    const r = await s.run();
    rows.push(...r);
    process.stderr.write(table(r) + '\n');
  } catch (e) {
    const reason = e instanceof Skip ? e.message : `failed: ${(e as Error).message}`;
    skipped.push({ scenario: s.name, reason });
    process.stderr.write(`bench: ${s.name} skipped (${reason})\n`);
  }
}
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), kernel: release(), node: process.version };
console.log(table(rows));
if (skipped.length) console.log(skipped.map((s) => `skipped ${s.scenario}: ${s.reason}`).join('\n'));
console.log(`machine: ${machine.cpus} × ${machine.cpu}, ${machine.memGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify({ at: new Date().toISOString(), machine, rows, skipped }, null, 2) + '\n');
