// `node --import ./load-recorder.mjs`: appends the URL of every module the process loads to the
// file named by KEYWAY_LOAD_LOG, one per line: ES modules through a loader hook (including
// CommonJS packages imported from ESM), and at exit every CommonJS module in require's cache
// (packages loaded with createRequire) and every Node built-in, public or internal, as
// `builtin:NAME` (taken through require() or process.getBuiltinModule(), no hook sees those).
// Built-ins through getBuiltinModule: an ES import of node:fs would itself load fs/promises and readline.
const { appendFileSync } = process.getBuiltinModule('node:fs');
const { createRequire, register } = process.getBuiltinModule('node:module');
const { pathToFileURL } = process.getBuiltinModule('node:url');

const out = process.env.KEYWAY_LOAD_LOG;
if (out) {
  register('./load-recorder-hooks.mjs', import.meta.url, { data: { out } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `builtin:${m.slice('NativeModule '.length)}`);
    appendFileSync(out, [...Object.keys(require.cache).map((p) => pathToFileURL(p).href), ...builtins].map((l) => `${l}\n`).join(''));
  });
}
