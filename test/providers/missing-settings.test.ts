// Every provider reports a setting it needs but does not have the same way: failed_precondition
// (the request is fine; the host is not set up for it), with a message that names the provider
// once ("aws-sm: ...", or `aws-sm provider "prod": ...` for a named instance).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../src/core/errors.js';
import type { Provider } from '../../src/core/provider.js';
import { awsSmFactory } from '../../src/providers/aws-sm/index.js';
import { awsSsmFactory } from '../../src/providers/aws-ssm/index.js';
import type { ProviderType } from '../../src/providers/factory.js';
import { gcpSmFactory } from '../../src/providers/gcp-sm/index.js';
import { vaultFactory } from '../../src/providers/vault/index.js';
import { envOnlyDeps } from './helpers.js';

function make(f: ProviderType, name: string, config: unknown, env: Record<string, string>): Provider {
  const configured = f.configure(config);
  if (!configured.ok) throw configured.error;
  return configured.create(name, envOnlyDeps(env));
}

async function missing(what: string, attempt: () => Promise<unknown>, message: RegExp): Promise<void> {
  let err: unknown;
  try {
    await attempt();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof KeywayError, `${what}: expected a KeywayError, got ${String(err)}`);
  assert.equal(err.code, 'failed_precondition', `${what}: ${err.message}`);
  assert.match(err.message, message, what);
  assert.doesNotMatch(err.message, /^(aws-sm|aws-ssm|gcp-sm|vault) \1\b/, `${what}: the provider is named once`);
}

void test('a provider setting that is needed but missing is failed_precondition in every provider, naming the provider once', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'kw-missing-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const env = { HOME: home };
  const req = (path: string) => ({ path, options: {}, signal: AbortSignal.timeout(5000) });
  await missing('aws-sm region', () => make(awsSmFactory, 'aws-sm', {}, env).lookup(req('x')), /^aws-sm: no AWS region/);
  await missing('aws-ssm region', () => make(awsSsmFactory, 'aws-ssm', {}, env).lookup(req('/x')), /^aws-ssm: no AWS region/);
  await missing('aws-sm region of a named instance', () => make(awsSmFactory, 'prod', {}, env).lookup(req('x')), /^aws-sm provider "prod": no AWS region/);
  await missing('vault address', () => make(vaultFactory, 'vault', {}, env).lookup(req('secret/app')), /^vault: no address/);
  // Refused when the implementation is built, on the instance's first operation (core/lazy-provider.ts).
  await missing('gcp-sm token_file', () => make(gcpSmFactory, 'gcp-sm', { auth: 'token_file' }, env).lookup(req('db')), /^gcp-sm: auth = "token_file" needs token_file/);
  const token = join(home, 'token');
  writeFileSync(token, 'ya29.test');
  await missing('gcp-sm project', () => make(gcpSmFactory, 'gcp-sm', { token_file: token, endpoint: 'http://127.0.0.1:9' }, env).lookup(req('db')), /^gcp-sm: secret "db" names no project/);
});
