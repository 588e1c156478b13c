// `node --import ./load-recorder.mjs`: appends the URL of every module the process loads to the
// file named by KEYWAY_LOAD_LOG, one per line: ES modules through a loader hook (including
// CommonJS packages imported from ESM), and at exit every CommonJS module in require's cache
// (packages loaded with createRequire).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const out = process.env.KEYWAY_LOAD_LOG;
if (out) {
  register('./load-recorder-hooks.mjs', import.meta.url, { data: { out } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    appendFileSync(out, Object.keys(require.cache).map((p) => `${pathToFileURL(p).href}\n`).join(''));
  });
}
