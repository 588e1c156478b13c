import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../src/core/logger.js';
import type { ProviderDeps, ProviderType } from '../../src/providers/factory.js';
import { BUILTIN_PROVIDERS } from '../../src/providers/builtin.js';

const CLOUD = ['aws-sm', 'aws-ssm', 'gcp-sm', 'azure-kv'];
const deps: ProviderDeps = { logger: silentLogger(), db: undefined as never, stateDir: '/nonexistent', env: {} };

function factory(type: string): ProviderType {
  const f = BUILTIN_PROVIDERS.find((x) => x.type === type);
  assert.ok(f, `${type} is registered`);
  return f;
}

test('every cloud provider type is built in and usable as ref+TYPE:// with no config and no network at creation', () => {
  for (const type of CLOUD) {
    const f = factory(type);
    assert.equal(f.usableWithoutConfig, true);
    const configured = f.configure({});
    assert.ok(configured.ok, type);
    const p = configured.create(type, deps);
    assert.equal(p.type, type);
    assert.equal(p.name, type);
    assert.equal(typeof p.version, 'function', `${type} has a cheap version op`);
    assert.ok(f.description.length > 0);
  }
});

test('every cloud provider config schema refuses unknown keys and wrong types', () => {
  for (const type of CLOUD) {
    const f = factory(type);
    assert.equal(f.configure({ no_such_option: 1 }).ok, false, type);
    assert.equal(f.configure({ timeout_ms: 'soon' }).ok, false, type);
    assert.equal(f.configure({ timeout_ms: 5 }).ok, false, `${type}: timeouts under 100 ms are refused`);
  }
});
