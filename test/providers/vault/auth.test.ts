import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError } from '../../../src/core/errors.js';
import type { WorkloadIdentity } from '../../../src/core/provider.js';
import { SecretValue } from '../../../src/core/secret-value.js';
import { makeJwt } from '../../emulators/vault/server.js';
import { req, setup, type TestContext } from './helpers.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-vault-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function withSecret(t: TestContext) {
  const s = await setup(t);
  const kv = s.emu.state.mount('secret', 2);
  s.emu.state.putV2(kv, 'app', { password: 'pw' });
  s.emu.setPolicy('app', { 'secret/data/app': ['read'], 'secret/metadata/app': ['read'] });
  return s;
}

const field = { field: 'password' };

test('an AppRole token that expired out of band is replaced by a new login without failing the request', async (t) => {
  const s = await withSecret(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'role'), 'role-1\n');
  writeFileSync(join(dir, 'sid'), 'sid-1\n');
  s.emu.addAppRole('r', 'role-1', 'sid-1', ['app'], 3600);
  const p = s.provider({ auth: { method: 'approle', role_id_file: join(dir, 'role'), secret_id_file: join(dir, 'sid') } });
  assert.equal((await p.lookup(req('secret/app', field))).expose().toString(), 'pw');
  const first = s.emu.loginTokens()[0];
  assert.ok(first);
  s.emu.expireToken(first.id);
  assert.equal((await p.lookup(req('secret/app', field))).expose().toString(), 'pw');
  assert.equal(s.emu.requestsTo('auth/approle/login'), 2);
  // A revoked token is handled the same way.
  const second = s.emu.loginTokens()[1];
  assert.ok(second);
  s.emu.revokeToken(second.id);
  assert.equal((await p.lookup(req('secret/app', field))).expose().toString(), 'pw');
  assert.equal(s.emu.requestsTo('auth/approle/login'), 3);
});

test('a login token is renewed with renew-self once 2/3 of its TTL has passed, before the request', async (t) => {
  const s = await withSecret(t);
  s.emu.addAppRole('r', 'role-1', 'sid-1', ['app'], 60);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sid'), 'sid-1');
  const p = s.provider({ auth: { method: 'approle', role_id: 'role-1', secret_id_file: join(dir, 'sid') } });
  await p.lookup(req('secret/app'));
  s.clock.now += 30_000; // half the TTL: no renewal yet
  await p.lookup(req('secret/app'));
  assert.equal(s.emu.requestsTo('auth/token/renew-self'), 0);
  s.clock.now += 11_000; // 41 s > 40 s
  await p.lookup(req('secret/app'));
  assert.equal(s.emu.requestsTo('auth/token/renew-self'), 1);
  assert.equal(s.emu.loginTokens()[0]?.meta.renewals, '1');
  assert.equal(s.emu.requestsTo('auth/approle/login'), 1);
  // Past its expiry on our clock, a login token is replaced by logging in, not renewed.
  s.clock.now += 120_000;
  await p.lookup(req('secret/app'));
  assert.equal(s.emu.requestsTo('auth/approle/login'), 2);
});

test('a static token is looked up for its TTL and renewed; once rejected it is unauthenticated', async (t) => {
  const s = await withSecret(t);
  const tok = s.emu.state.issueToken({ policies: ['app'], ttl: 90, renewable: true });
  const p = s.provider({}, { VAULT_TOKEN: tok.id });
  await p.lookup(req('secret/app'));
  assert.equal(s.emu.requestsTo('auth/token/lookup-self'), 1);
  s.clock.now += 61_000;
  await p.lookup(req('secret/app'));
  assert.equal(s.emu.requestsTo('auth/token/renew-self'), 1);
  s.emu.revokeToken(tok.id);
  await assert.rejects(p.lookup(req('secret/app')), (e: unknown) => {
    assert.ok(e instanceof KeywayError);
    assert.equal(e.code, 'unauthenticated');
    assert.match(e.message, /rejected by Vault \(expired or revoked\)/);
    assert.ok(!e.message.includes(tok.id), 'the token is not in the message');
    return true;
  });
});

test('a rejected token file is re-read, so a rotated token keeps requests working', async (t) => {
  const s = await withSecret(t);
  const dir = tempDir(t);
  const a = s.emu.state.issueToken({ policies: ['app'], ttl: 3600 });
  writeFileSync(join(dir, 'token'), a.id + '\n');
  const p = s.provider({ auth: { method: 'token', token_file: join(dir, 'token') } });
  await p.lookup(req('secret/app'));
  const b = s.emu.state.issueToken({ policies: ['app'], ttl: 3600 });
  writeFileSync(join(dir, 'token'), b.id);
  s.emu.revokeToken(a.id);
  assert.equal((await p.lookup(req('secret/app', field))).expose().toString(), 'pw');
  s.emu.revokeToken(b.id);
  await assert.rejects(p.lookup(req('secret/app')), (e: unknown) => e instanceof KeywayError && e.code === 'unauthenticated' && e.message.includes(join(dir, 'token')));
});

test('no token at all is unauthenticated, and a refused login names the auth mount but not the credentials', async (t) => {
  const s = await withSecret(t);
  await assert.rejects(s.provider().lookup(req('secret/app')), (e: unknown) => e instanceof KeywayError && e.code === 'unauthenticated' && /VAULT_TOKEN/.test(e.message));
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sid'), 'wrong-secret-id');
  s.emu.addAppRole('r', 'role-1', 'sid-1', ['app']);
  const p = s.provider({ auth: { method: 'approle', role_id: 'role-1', secret_id_file: join(dir, 'sid') } });
  await assert.rejects(p.lookup(req('secret/app')), (e: unknown) => {
    assert.ok(e instanceof KeywayError);
    assert.equal(e.code, 'unauthenticated');
    assert.match(e.message, /login at auth\/approle was refused \(HTTP 400: invalid role or secret ID\)/);
    assert.ok(!e.message.includes('wrong-secret-id'));
    return true;
  });
});

function workload(ns: string, sa: string, jwt: string): WorkloadIdentity {
  return { frontend: 'csi', pod: { namespace: ns, serviceAccount: sa, uid: `${ns}-${sa}` }, tokens: new Map([['vault', { token: SecretValue.fromString(jwt) }]]) };
}

test('Kubernetes auth logs in with each workload\'s own service account token, and with jwt_file otherwise', async (t) => {
  const s = await withSecret(t);
  s.emu.addKubernetesRole('app', { boundServiceAccounts: ['prod/app', 'ops/daemon'], policies: ['app'], ttl: 600 });
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sa-token'), makeJwt({ sub: 'system:serviceaccount:ops:daemon', aud: ['https://kubernetes.default.svc'] }));
  const p = s.provider({ auth: { method: 'kubernetes', role: 'app', jwt_file: join(dir, 'sa-token'), mount: 'kubernetes' } });

  const podA = workload('prod', 'app', makeJwt({ sub: 'system:serviceaccount:prod:app', aud: ['vault'] }));
  assert.equal((await p.lookup(req('secret/app', field, { identity: podA }))).expose().toString(), 'pw');
  assert.equal(s.emu.loginTokens().at(-1)?.meta.service_account, 'prod/app');
  const podB = workload('dev', 'intruder', makeJwt({ sub: 'system:serviceaccount:dev:intruder', aud: ['vault'] }));
  await assert.rejects(p.lookup(req('secret/app', {}, { identity: podB })), (e: unknown) => e instanceof KeywayError && e.code === 'unauthenticated' && /auth\/kubernetes/.test(e.message));

  // Without a workload token, the daemon's own token file is used.
  await p.lookup(req('secret/app'));
  assert.equal(s.emu.loginTokens().at(-1)?.meta.service_account, 'ops/daemon');
  // A role asked for by a workload without its own token is ignored: the daemon's login keeps its role.
  await p.lookup(req('secret/app', {}, { identity: { frontend: 'csi', params: { role: 'admin' } } }));
  assert.equal(s.emu.loginTokens().at(-1)?.meta.role, 'app');
  // Sessions are per workload: pod A does not log in again.
  const logins = s.emu.requestsTo('auth/kubernetes/login');
  await p.lookup(req('secret/app', {}, { identity: podA }));
  assert.equal(s.emu.requestsTo('auth/kubernetes/login'), logins);
});

test('JWT auth uses the workload token for the configured audience', async (t) => {
  const s = await withSecret(t);
  s.emu.addJwtRole('ci', { boundAudience: 'vault', policies: ['app'], ttl: 600 });
  const p = s.provider({ auth: { method: 'jwt', role: 'ci' } });
  const pod = workload('ci', 'runner', makeJwt({ sub: 'runner', aud: 'vault' }));
  assert.equal((await p.lookup(req('secret/app', field, { identity: pod }))).expose().toString(), 'pw');
  assert.equal(s.emu.loginTokens().at(-1)?.meta.login, 'jwt');
  // Without a workload token and without jwt_file there is nothing to log in with.
  await assert.rejects(p.lookup(req('secret/app')), (e: unknown) => e instanceof KeywayError && e.code === 'unauthenticated' && /audience "vault"/.test(e.message));
  // A wrong audience is refused by Vault.
  const q = s.provider({ auth: { method: 'jwt', role: 'ci', audience: 'other' } });
  const pod2: WorkloadIdentity = { frontend: 'csi', tokens: new Map([['other', { token: SecretValue.fromString(makeJwt({ sub: 'x', aud: 'other' })) }]]) };
  await assert.rejects(q.lookup(req('secret/app', {}, { identity: pod2 })), (e: unknown) => e instanceof KeywayError && e.code === 'unauthenticated' && /aud claim/.test(e.message));
});

test('concurrent requests share one login', async (t) => {
  const s = await withSecret(t);
  s.emu.addAppRole('r', 'role-1', 'sid-1', ['app']);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sid'), 'sid-1');
  const p = s.provider({ auth: { method: 'approle', role_id: 'role-1', secret_id_file: join(dir, 'sid') } });
  const values = await Promise.all(Array.from({ length: 8 }, () => p.lookup(req('secret/app', field))));
  assert.ok(values.every((v) => v.expose().toString() === 'pw'));
  assert.equal(s.emu.requestsTo('auth/approle/login'), 1);
});

test('a caller that gives up does not fail the others waiting for the same login', async (t) => {
  const s = await withSecret(t);
  s.emu.addAppRole('r', 'role-1', 'sid-1', ['app']);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sid'), 'sid-1');
  const p = s.provider({ mounts: { secret: 2 }, auth: { method: 'approle', role_id: 'role-1', secret_id_file: join(dir, 'sid') } });
  s.emu.state.delayMs = 200;
  const impatient = new AbortController();
  const first = p.lookup(req('secret/app', field, { signal: impatient.signal }));
  const second = p.lookup(req('secret/app', field));
  setTimeout(() => impatient.abort(), 50);
  await assert.rejects(first, (e: unknown) => e instanceof KeywayError && e.code === 'cancelled');
  assert.equal((await second).expose().toString(), 'pw');
  assert.equal(s.emu.requestsTo('auth/approle/login'), 1);
});

test('an idle provider renews its token in the background at 2/3 of the TTL', async (t) => {
  const s = await withSecret(t);
  const tok = s.emu.state.issueToken({ policies: ['app'], ttl: 3, renewable: true });
  const p = s.provider({ mounts: { secret: 2 } }, { VAULT_TOKEN: tok.id });
  await p.lookup(req('secret/app'));
  assert.equal(s.emu.requestsTo('auth/token/renew-self'), 0);
  // No requests from here on; the timer fires about 2 s after the lookup.
  const end = Date.now() + 10_000;
  while (s.emu.requestsTo('auth/token/renew-self') === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.emu.requestsTo('auth/token/renew-self'), 1);
  assert.equal(tok.meta.renewals, '1');
});
