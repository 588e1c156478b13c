// `npm run build` after the type check: bundles the CLI with esbuild into dist/. Resolving, reading
// and linking one ES module costs about as much as running the code it holds, and a CLI start used
// to load ~100 of them (keyway's own files plus zod, smol-toml and commander); the bundle loads a
// handful. Code splitting keeps every command lazy: each dynamic import() in src/ becomes its own
// chunk, shared code goes into shared chunks, so `keyway version` still evaluates only its own code.
//
// Layout (docs/architecture.md, "Build"):
//   dist/cli.js                the `keyway` bin: src/cli.ts and the few small modules it imports,
//                              bundled on their own (below), then dist/cli/chunks/main.js
//   dist/cli/podman-lookup.js  the lean entry Podman's shell driver runs (its path is stored in
//                              every Podman secret keyway created, so it must not move)
//   dist/cli/chunks/*.js       everything else. Chunks sit two levels below the package root, as
//                              src/cli/commands/*.ts does, so code that finds files relative to its
//                              own URL (bin/keyway-podman-lookup, the lean entry) finds them the same way.
//   dist/cli/chunks/zod.cjs    zod, loaded on first use (below)
//   dist/cli/chunks/lean-*.js  a plain `keyway get` (src/cli/lean-get.ts), built apart from the
//                              rest: its own file, one chunk it shares with the implementations
//                              that provider instances import on first use, and that chunk. The
//                              thirty-odd shared chunks of the full build, which a get would
//                              otherwise resolve and link, cost more than its code takes to run.
//                              The checks at the end keep it at two files on a get's path.
// Packages loaded with require() (yaml, gRPC) stay in node_modules. Source maps name the
// src/ files for stack traces (node --enable-source-maps).
//
// zod alone costs a CLI start ~15 ms to evaluate, although a valid config and a provider used with
// its defaults need no schema built. So `import { z } from 'zod'` gets a stand-in whose first
// property read require()s the real zod (a CommonJS bundle, so the read can stay synchronous):
// code that builds its schemas when first needed does not load zod before that.
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Bundled into the chunks: ES modules every CLI start needs. The rest are loaded from node_modules. */
const BUNDLED = new Set(['zod', 'smol-toml', 'commander']);

const LAZY_ZOD = `import { createRequire } from 'node:module';
let real;
export const z = new Proxy({}, {
  get(_, key) {
    real ??= createRequire(import.meta.url)('./zod.cjs').z;
    return real[key];
  },
});
`;

/** Resolves \`zod\` (only \`z\` is imported from it) to the stand-in above. */
const lazyZod = {
  name: 'lazy-zod',
  setup(b) {
    b.onResolve({ filter: /^zod$/ }, () => ({ path: 'lazy-zod', namespace: 'keyway' }));
    b.onLoad({ filter: /.*/, namespace: 'keyway' }, () => ({ contents: LAZY_ZOD, loader: 'js', resolveDir: root }));
  },
};

const common = { absWorkingDir: root, bundle: true, platform: 'node', target: `node${pkg.engines.node.replace(/^>=/, '')}`, sourcemap: true, sourcesContent: false, legalComments: 'inline', logLevel: 'warning' };

rmSync(dist, { recursive: true, force: true });
await build({
  ...common,
  stdin: { contents: "export { z } from 'zod';", resolveDir: root, loader: 'js' },
  format: 'cjs',
  minify: true,
  outfile: join(dist, 'cli', 'chunks', 'zod.cjs'),
});
/**
 * Node's own modules without their ES module facade. \`import ... from 'node:fs'\` builds the
 * module's namespace, which reads every export, and some exports are getters that load more:
 * node:fs's \`promises\` brings fs/promises, readline and the REPL history (~4 ms on every start).
 * So each \`node:\` import becomes a module that takes the built-in through require() and
 * re-exports its plain values one by one; esbuild drops the ones nobody imports. Getters are left
 * out (importing one fails the build, which names it).
 */
const nodeRequire = createRequire(import.meta.url);
const builtinsWithoutFacade = {
  name: 'builtins-without-facade',
  setup(b) {
    // One stand-in per importing file, so that each lands in its importer's chunk instead of
    // becoming a chunk of its own.
    b.onResolve({ filter: /^node:/ }, (a) => (a.kind === 'require-call' || a.namespace === 'node-builtin' ? { path: a.path, external: true } : { path: `${a.path}|${relative(root, a.importer)}`, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (a) => {
      const id = a.path.slice(0, a.path.indexOf('|'));
      const mod = nodeRequire(id);
      const names = Object.getOwnPropertyNames(mod).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== 'default' && !('get' in Object.getOwnPropertyDescriptor(mod, k)));
      const lines = [`const m = require(${JSON.stringify(id)});`, 'const pick = (k) => m[k];', 'export default m;'];
      for (const k of names) lines.push(`const _${k} = /* @__PURE__ */ pick(${JSON.stringify(k)});`, `export { _${k} as ${k} };`);
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

/** src/cli.ts imports the lean `get` by its source name; in dist/ it is the standalone file. */
const LEAN_GET = 'cli/chunks/lean-get';
const leanGetExternal = {
  name: 'lean-get',
  setup(b) {
    b.onResolve({ filter: /^\.\/cli\/lean-get\.js$/ }, () => ({ path: `./${LEAN_GET}.js`, external: true }));
  },
};

const esm = {
  ...common,
  outdir: dist,
  format: 'esm',
  external: Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)),
  metafile: true,
  // CommonJS packages bundled in (commander) call require() for Node's own modules.
  banner: { js: "import { createRequire as __kwCreateRequire } from 'node:module'; const require = __kwCreateRequire(import.meta.url);" },
};
const split = await build({
  ...esm,
  entryPoints: { 'cli/chunks/main': 'src/cli/main.ts', 'cli/podman-lookup': 'src/cli/podman-lookup.ts' },
  chunkNames: 'cli/chunks/[name]-[hash]',
  splitting: true,
  plugins: [lazyZod, builtinsWithoutFacade],
});
const lean = await build({ ...esm, entryPoints: { [LEAN_GET]: 'src/cli/lean-get.ts' }, chunkNames: 'cli/chunks/lean-[name]-[hash]', splitting: true, plugins: [lazyZod, builtinsWithoutFacade] });

// The stand-in finds zod.cjs next to itself, so it must land in a chunk, not in an entry.
for (const { metafile } of [split, lean]) {
  for (const [out, { inputs }] of Object.entries(metafile.outputs)) {
    if (inputs['keyway:lazy-zod'] && !out.startsWith('dist/cli/chunks/')) throw new Error(`postbuild: the zod stand-in landed in ${out}`);
  }
}

// A lean `get` loads its own file and the one chunk it shares with the code instances load on
// first use (src/providers/implementations.ts). Each more file costs a start more than its code
// does (a new dynamic import() on a get's path would add a shared chunk), and the implementations
// must stay out of what a get loads.
const leanFiles = [];
const leanClosure = (out) => {
  if (leanFiles.includes(out)) return;
  leanFiles.push(out);
  for (const i of lean.metafile.outputs[out]?.imports ?? []) if (i.kind === 'import-statement' && !i.external) leanClosure(i.path);
};
leanClosure(`dist/${LEAN_GET}.js`);
const leanLoads = leanFiles.flatMap((o) => Object.keys(lean.metafile.outputs[o]?.inputs ?? {}));
if (leanFiles.length > 2) throw new Error(`postbuild: a lean get would load ${leanFiles.length} files (${leanFiles.join(', ')}); at most its own and one shared chunk`);
if (leanLoads.includes('src/providers/implementations.ts')) throw new Error('postbuild: a lean get would load every provider implementation');

// The bin imports no other file of keyway's statically: `serve` holds V8's optimizing compilers in
// its first module (src/cli/hold-compilers.ts), and resolving just a few module files before that
// would have V8 mark Node's path functions for optimization. So src/cli.ts is bundled without code splitting,
// its imports inlined (they are small, and duplicated in the chunks that use them too), and it
// loads the rest of the CLI from the entry above.
// No banner and no require() stand-ins here: creating a require function is path work too, and
// these modules take Node's own modules through process.getBuiltinModule instead.
const boot = await build({
  ...common,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: dist,
  format: 'esm',
  metafile: true,
  plugins: [{ name: 'cli-main', setup: (b) => b.onResolve({ filter: /^\.\/cli\/main\.js$/ }, () => ({ path: './cli/chunks/main.js', external: true })) }, leanGetExternal],
});
const bootInputs = Object.keys(boot.metafile.inputs).sort();
if (bootInputs.join() !== 'src/cli.ts,src/cli/argv.ts,src/cli/hold-compilers.ts,src/core/jit.ts,src/runtime.ts') throw new Error(`postbuild: dist/cli.js bundles ${bootInputs.join(', ')}; keep its imports few and small`);
const bootStatic = Object.values(boot.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.kind === 'import-statement').map((i) => i.path));
if (bootStatic.length > 0) throw new Error(`postbuild: dist/cli.js statically imports ${bootStatic.join(', ')}; take Node's modules through process.getBuiltinModule`);
if (readFileSync(join(dist, 'cli.js'), 'utf8').includes('import.meta.url')) throw new Error('postbuild: dist/cli.js turns its own URL into a path, which is path work before the hold');

// No module may be both in the lean `get` build and in dist/cli.js, which runs before it: it would
// exist twice in one process (two KeywayError classes, two copies of any module state).
const twice = Object.keys(lean.metafile.inputs).filter((m) => bootInputs.includes(m));
if (twice.length > 0) throw new Error(`postbuild: ${twice.join(', ')} would be loaded twice by a lean get (dist/cli.js and ${LEAN_GET}.js)`);
chmodSync(join(dist, 'cli.js'), 0o755);
