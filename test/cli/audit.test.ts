import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testInstance } from '../helpers/cli.js';

test('audit lists creates and reads with outcomes, filters by name, and never shows values', (t) => {
  const i = testInstance(t);
  const canary = 'CANARY-audit-cli-1234';
  assert.equal(i.run(['secret', 'create', 'db', '-'], { input: canary }).status, 0);
  assert.equal(i.run(['get', 'db']).status, 0);
  assert.equal(i.run(['get', 'nope']).status, 3);
  const all = JSON.parse(i.run(['audit', '--format', 'json']).stdout.toString()) as { action: string; subject: string; outcome: string; code?: string; frontend: string }[];
  assert.deepEqual(all.map((r) => [r.action, r.subject, r.outcome, r.code ?? null]), [['create', 'db', 'ok', null], ['resolve', 'db', 'ok', null], ['resolve', 'nope', 'error', 'not_found']]);
  assert.ok(all.every((r) => r.frontend === 'cli'));
  const onlyDb = JSON.parse(i.run(['audit', '--name', 'db', '--format', 'json']).stdout.toString()) as unknown[];
  assert.equal(onlyDb.length, 2);
  const table = i.run(['audit', '--since', '1h']).stdout.toString();
  assert.equal(table.trim().split('\n').length, 3);
  assert.ok(!table.includes(canary) && !JSON.stringify(all).includes(canary));
  assert.equal(i.run(['audit', '--since', 'yesterday']).status, 2);
});

test('broker policy keys are validated in [broker] and per provider', (t) => {
  const i = testInstance(t);
  i.writeConfig('[broker]\ncache_ttl = "soon"\n');
  const r = i.run(['secret', 'ls']);
  assert.equal(r.status, 2);
  assert.match(r.stderr.toString(), /broker\.cache_ttl: expected a duration/);
  i.writeConfig('[broker]\ncache_ttl = "1m"\nmax_stale = "1h"\n[providers.vault-ish]\ntype = "local"\nretries = 0\n');
  assert.equal(i.run(['secret', 'ls']).status, 0);
});
