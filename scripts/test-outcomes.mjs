// A node:test reporter that writes one JSON line per finished test (not per suite): its file,
// name, outcome and skip reason. scripts/run-tests.mjs reads these to print the skip list and to
// fail a CI run in which any test skipped.
import { relative } from 'node:path';

export default async function* outcomes(source) {
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data;
    if (d.details?.type === 'suite') continue;
    // --test-name-pattern / --test-only filtering is the caller's choice, not a gated test
    if (d.skip === 'test name does not match pattern' || d.skip === "'only' option not set") continue;
    const file = d.file ? relative(process.cwd(), d.file) : '';
    const outcome = ev.type === 'test:fail' ? 'fail' : d.skip !== undefined && d.skip !== false ? 'skip' : d.todo !== undefined && d.todo !== false ? 'todo' : 'pass';
    const reason = typeof d.skip === 'string' ? d.skip : typeof d.todo === 'string' ? d.todo : '';
    yield JSON.stringify({ file, name: d.name, outcome, reason }) + '\n';
  }
}
