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
// Packages loaded with require() (pino, yaml, gRPC) stay in node_modules. Source maps name the
// src/ files for stack traces (node --enable-source-maps).
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Bundled into the chunks: ES modules every CLI start needs. The rest are loaded from node_modules. */
const BUNDLED = new Set(['zod', 'smol-toml', 'commander']);

rmSync(dist, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli.ts', 'cli/podman-lookup': 'src/cli/podman-lookup.ts' },
  outdir: dist,
  chunkNames: 'cli/chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: `node${pkg.engines.node.replace(/^>=/, '')}`,
  external: Object.keys(pkg.dependencies).filter((d) => !BUNDLED.has(d)),
  sourcemap: true,
  sourcesContent: false,
  // CommonJS packages bundled in (commander) call require() for Node's own modules.
  banner: { js: "import { createRequire as __kwCreateRequire } from 'node:module'; const require = __kwCreateRequire(import.meta.url);" },
  legalComments: 'inline',
  logLevel: 'warning',
});

chmodSync(join(dist, 'cli.js'), 0o755);
