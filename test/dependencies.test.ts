// keyway installs without compiling anything: no native addon anywhere in node_modules, and no
// dependency's install script runs (.npmrc ignore-scripts). The two packages that ship a
// JavaScript-only postinstall work without it (esbuild finds its binary package at run time;
// protobufjs only checks optional CLI dependencies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './helpers/cli.js';

const NOT_RUN_JS_ONLY = new Set(['esbuild', 'protobufjs']);

interface Found {
  readonly addons: string[];
  readonly installScripts: string[];
}

function walk(dir: string, found: Found): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, found);
    else if (e.name.endsWith('.node') || e.name === 'binding.gyp') found.addons.push(p.slice(REPO.length + 1));
    else if (e.name === 'package.json') {
      let pkg: { name?: unknown; scripts?: Record<string, unknown> };
      try {
        pkg = JSON.parse(readFileSync(p, 'utf8')) as typeof pkg;
      } catch {
        continue; // fixtures inside packages are not always JSON
      }
      const scripts = pkg.scripts ?? {};
      if (typeof pkg.name === 'string' && ['preinstall', 'install', 'postinstall'].some((s) => typeof scripts[s] === 'string')) found.installScripts.push(pkg.name);
    }
  }
}

test('node_modules holds no native addon and no package with an install script beyond two JavaScript-only ones', () => {
  const nm = join(REPO, 'node_modules');
  assert.ok(existsSync(nm), 'run npm ci first');
  const found: Found = { addons: [], installScripts: [] };
  walk(nm, found);
  assert.deepEqual(found.addons, []);
  assert.deepEqual([...new Set(found.installScripts)].filter((n) => !NOT_RUN_JS_ONLY.has(n)), []);
  assert.equal(existsSync(join(nm, 'better-sqlite3')), false);
});

test('npm is told to run no dependency install scripts', () => {
  assert.match(readFileSync(join(REPO, '.npmrc'), 'utf8'), /^ignore-scripts=true$/m);
});

test('the lockfile records no install script beyond the two JavaScript-only ones', () => {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
  const withScripts = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ''));
  assert.deepEqual(withScripts.filter((n) => !NOT_RUN_JS_ONLY.has(n)), []);
});
