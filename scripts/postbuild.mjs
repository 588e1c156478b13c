// After tsc: make the entry point executable, and bundle the dependencies every CLI start loads
// from many small modules (zod, smol-toml, commander) into one file each under dist/vendor/,
// pointing the compiled imports at them: resolving and compiling ~100 files costs more than the
// code they hold. The bundles have source maps too. Tests run src/ under tsx with the packages
// themselves; only dist/ uses the bundles, so each package is loaded once per process either way.
import { chmodSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const VENDORED = ['zod', 'smol-toml', 'commander'];

mkdirSync(join(dist, 'vendor'), { recursive: true });
for (const pkg of VENDORED) {
  await build({
    stdin: { contents: `export * from '${pkg}';`, resolveDir: fileURLToPath(new URL('..', import.meta.url)), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    minify: true,
    // CommonJS packages (commander) call require() for Node's own modules.
    banner: { js: "import { createRequire as __kwRequire } from 'node:module'; const require = __kwRequire(import.meta.url);" },
    legalComments: 'inline',
    outfile: join(dist, 'vendor', `${pkg}.js`),
    logLevel: 'warning',
  });
}

const importOf = new RegExp(`(from |import\\()'(${VENDORED.join('|')})'`, 'g');
function rewrite(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== join(dist, 'vendor')) rewrite(p);
    } else if (e.name.endsWith('.js')) {
      const text = readFileSync(p, 'utf8');
      const out = text.replace(importOf, (_, head, pkg) => {
        const rel = relative(dirname(p), join(dist, 'vendor', `${pkg}.js`));
        return `${head}'${rel.startsWith('.') ? rel : `./${rel}`}'`;
      });
      if (out !== text) writeFileSync(p, out);
    }
  }
}
rewrite(dist);

chmodSync(join(dist, 'cli.js'), 0o755);
