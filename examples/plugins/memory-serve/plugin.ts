#!/usr/bin/env node
// Example serve-mode plugin: an in-memory secret store. Values live only in this process and vanish
// when keyway stops it. Paths under `demo/` answer fixed demo values so it can be tried at once:
//   keyway plugin register mem "$PWD/examples/plugins/memory-serve/plugin.ts" --lifecycle serve \
//     --env NODE_OPTIONS=--import="$PWD/node_modules/tsx/dist/esm/index.mjs" --ro-bind "$PWD"
//   (run from the repository root; it runs from source through tsx, see ../README.md)
//   keyway get 'ref+mem://demo/1'
import { createHash } from 'node:crypto';
import { PluginError, runPlugin } from '../../../packages/plugin-sdk/src/index.js';

const values = new Map<string, Buffer>();

function get(path: string): Buffer {
  if (path.startsWith('demo/')) return Buffer.from(`demo-value-${path.slice(5)}`);
  const v = values.get(path);
  if (!v) throw new PluginError('not_found', `no secret at ${path}`);
  return v;
}

await runPlugin({
  name: 'memory',
  pluginVersion: '1.0.0',
  lookup: ({ path }) => ({ value: get(path), version: createHash('sha256').update(get(path)).digest('hex').slice(0, 16) }),
  store: ({ path }, value) => void values.set(path, Buffer.from(value)),
  delete: ({ path }) => {
    const v = values.get(path);
    if (!v) throw new PluginError('not_found', `no secret at ${path}`);
    v.fill(0);
    values.delete(path);
  },
  list: (prefix) => [...values.keys()].filter((k) => prefix === undefined || k.startsWith(prefix)).sort(),
  version: ({ path }) => createHash('sha256').update(get(path)).digest('hex').slice(0, 16),
});
