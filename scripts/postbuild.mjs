// `npm run build` after the type check: bundles the CLI with esbuild into dist/. Resolving, reading
// and linking one ES module costs about as much as running the code it holds, and a CLI start used
// to load ~100 of them (keyway's own files plus zod, smol-toml and commander); the bundle loads a
// handful. Code splitting keeps every command lazy: each dynamic import() in src/ becomes its own
// chunk, shared code goes into shared chunks, so `keyway version` still evaluates only its own code.
//
// Layout (docs/architecture.md, "Build"):
//   dist/cli.js                the `keyway` bin
//   dist/cli/podman-lookup.js  the lean entry Podman's shell driver runs (its path is stored in
//                              every Podman secret keyway created, so it must not move)
//   dist/cli/chunks/*.js       everything else. Chunks sit two levels below the package root, as
//                              src/cli/commands/*.ts does, so code that finds files relative to its
//                              own URL (bin/keyway-podman-lookup, the lean entry) finds them the same way.
//   dist/cli/chunks/zod.cjs    zod, loaded on first use (below)
// Packages loaded with require() (yaml, gRPC) stay in node_modules. Source maps name the
// src/ files for stack traces (node --enable-source-maps).
//
// zod alone costs a CLI start ~15 ms to evaluate, although a valid config and a provider used with
// its defaults need no schema built. So `import { z } from 'zod'` gets a stand-in whose first
// property read require()s the real zod (a CommonJS bundle, so the read can stay synchronous):
// code that builds its schemas when first needed does not load zod before that.
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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
const { metafile } = await build({
  ...common,
  entryPoints: { cli: 'src/cli.ts', 'cli/podman-lookup': 'src/cli/podman-lookup.ts' },
  outdir: dist,
  chunkNames: 'cli/chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
  external: Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)),
  plugins: [lazyZod],
  metafile: true,
  // CommonJS packages bundled in (commander) call require() for Node's own modules.
  banner: { js: "import { createRequire as __kwCreateRequire } from 'node:module'; const require = __kwCreateRequire(import.meta.url);" },
});

// The stand-in finds zod.cjs next to itself, so it must land in a chunk, not in an entry.
for (const [out, { inputs }] of Object.entries(metafile.outputs)) {
  if (inputs['keyway:lazy-zod'] && !out.startsWith('dist/cli/chunks/')) throw new Error(`postbuild: the zod stand-in landed in ${out}`);
}

chmodSync(join(dist, 'cli.js'), 0o755);
