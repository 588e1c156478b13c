// Template scenario: rendering a 50-placeholder template from the broker's cache vs resolving the
// same 50 references (the work a template cannot avoid). The difference is parsing-free rendering:
// filters, assembly of one wiped buffer, and the template's bookkeeping (target ≤ 1.2).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPair, type Row, type Scenario } from './lib.js';
import { silentLogger } from '../src/core/logger.js';
import { SecretValue } from '../src/core/secret-value.js';
import type { Provider } from '../src/core/provider.js';
import { openDb } from '../src/store/db.js';
import { SecretsRepo } from '../src/store/secrets.js';
import { AuditLog } from '../src/store/audit.js';
import { ProviderRegistry } from '../src/broker/registry.js';
import { Broker } from '../src/broker/broker.js';
import { dirSource } from '../src/templates/dir.js';
import { TemplatingResolver, templateTarget } from '../src/templates/resolver.js';
import { parseTemplate } from '../src/templates/syntax.js';

const N = 50;
const VALUE = Buffer.from('s3cret-"value"/with spaces\n');
const FILTERS = ['', ' | json', ' | url', ' | shell', ' | trim', ' | base64'];

export const templateRender: Scenario = {
  name: 'template-render',
  async run(): Promise<Row[]> {
    const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-'));
    const db = openDb(join(dir, 'state'));
    const mem: Provider = { type: 'mem', name: 'mem', optionKeys: [], lookup: async () => SecretValue.copyOf(VALUE) };
    const broker = new Broker({
      registry: new ProviderRegistry([{ get: (n) => (n === 'mem' ? mem : undefined), has: (n) => n === 'mem', names: () => ['mem'] }]),
      secrets: new SecretsRepo(db),
      audit: new AuditLog(db),
      logger: silentLogger(),
      maxSecretBytes: 1 << 20,
    });
    const refs = Array.from({ length: N }, (_, i) => `ref+mem://app/key${i}`);
    const text = refs.map((r, i) => `key_${i} = {{ ${r}${FILTERS[i % FILTERS.length]} }}\n`).join('');
    const tdir = join(dir, 'templates');
    mkdirSync(tdir);
    writeFileSync(join(tdir, 'app.conf.tmpl'), text);
    const parsed = parseTemplate(text, 'app.conf.tmpl');
    const preloaded = new TemplatingResolver({ inner: broker, maxBytes: 1 << 20, source: () => parsed });
    const fromDir = new TemplatingResolver({ inner: broker, maxBytes: 1 << 20, source: dirSource(tdir, 1 << 20) });
    const ctx = { identity: { frontend: 'bench' }, signal: new AbortController().signal };
    const target = templateTarget('app.conf.tmpl');
    const resolveAll = async (): Promise<void> => {
      for (const r of await Promise.all(refs.map((ref) => broker.resolve(ref, ctx)))) r.value.zero();
    };
    try {
      await resolveAll();
      const common = { baselineLabel: `resolve the ${N} references (cached)`, warmup: 200, reps: 2000, baseline: resolveAll };
      const loaded = await runPair({
        ...common,
        name: `template of ${N} placeholders`,
        keywayLabel: 'render, template parsed once (run --template)',
        target: 1.2,
        keyway: async () => (await preloaded.resolve(target, ctx)).value.zero(),
      });
      const read = await runPair({
        ...common,
        name: `template of ${N} placeholders, read each time`,
        keywayLabel: 'read + parse + render (volumes, CSI)',
        keyway: async () => (await fromDir.resolve(target, ctx)).value.zero(),
      });
      return [loaded, read];
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
