// Fails when relative imports between the project's TypeScript files form a cycle. Layering
// (frontends → delivery → broker → providers/plugins → core) relies on there being none.
// Type-only imports are ignored: they vanish at compile time.
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const roots = ['src', 'packages'];
const files = [];
const walk = (p) => {
  if (!existsSync(p)) return;
  if (statSync(p).isDirectory()) {
    for (const e of readdirSync(p)) if (e !== 'node_modules' && e !== 'dist') walk(join(p, e));
  } else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) files.push(resolve(p));
};
roots.forEach(walk);

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
const graph = new Map();
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const deps = new Set();
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    const target = resolve(dirname(f), spec.replace(/\.js$/, '.ts'));
    if (existsSync(target)) deps.add(target);
    else if (existsSync(join(target.replace(/\.ts$/, ''), 'index.ts'))) deps.add(join(target.replace(/\.ts$/, ''), 'index.ts'));
  }
  graph.set(f, deps);
}

// Tarjan's strongly connected components: any component with more than one file is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const cycles = [];
function strong(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1 || graph.get(v)?.has(v)) cycles.push(comp);
  }
}
for (const v of graph.keys()) if (!idx.has(v)) strong(v);

if (cycles.length > 0) {
  for (const c of cycles) console.error(`import cycle: ${c.map((f) => relative(process.cwd(), f)).sort().join(' ↔ ')}`);
  process.exit(1);
}
console.log(`no import cycles among ${files.length} files`);
