// The store's error boundary: whatever SQLite or the file system does, the store's public functions
// throw only KeywayErrors, with a stable code and a message that names the database file and what
// failed, and never the SQL or the library's own text. Every failure here is a real one: real
// constraint violations, a second connection holding the write lock, a read-only handle and mount,
// damaged pages and damaged JSON in a real database file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywayError, type ErrorCode } from '../../src/core/errors.js';
import { AuditLog, MAX_QUEUED } from '../../src/store/audit.js';
import { BlobsRepo } from '../../src/store/blobs.js';
import { DB_FILE, openDb, openDbFile } from '../../src/store/db.js';
import { MountSetsRepo } from '../../src/store/mount-sets.js';
import { PluginsRepo, type NewPlugin } from '../../src/store/plugins.js';
import { PodmanSecretsRepo } from '../../src/store/podman-secrets.js';
import { SecretsRepo, type SecretRecord } from '../../src/store/secrets.js';
import { VolumesRepo } from '../../src/store/volumes.js';
import { rootSkipReason } from '../helpers/tools.js';
import { tempDb } from './temp-db.js';

const ROOT_SKIP = rootSkipReason('needs root to bind-mount a directory read-only');

/** Runs `fn`, which must fail, and checks the failure is a KeywayError that says what and where. */
function failure(fn: () => unknown, code: ErrorCode, message: RegExp): KeywayError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected a failure matching ${message}`);
  assert.ok(thrown instanceof KeywayError, `not a KeywayError: ${String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  assert.match(thrown.message, message);
  // Neither keyway's SQL nor SQLite's own text (which can quote SQL and values) reaches the message.
  assert.doesNotMatch(thrown.message, /\b(SELECT|INSERT|UPDATE|DELETE FROM)\b|constraint failed|SQLITE_CONSTRAINT|malformed|file is not a database/);
  return thrown;
}

const escaped = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function secret(name: string, id = Buffer.from(name.padEnd(13, '_')).toString('hex').slice(0, 25)): SecretRecord {
  return { id, name, ref: 'ref+vault://kv/app#pw', blobId: null, labels: { team: 'a' }, mode: null, uid: null, gid: null, createdAt: '2026-12-01T00:00:00Z', updatedAt: '2026-12-01T00:00:00Z' };
}

const plugin: NewPlugin = { name: 'p1', path: '/usr/bin/true', sha256: 'a'.repeat(64), ociImage: null, runtime: null, lifecycle: 'oneshot', dialect: 'keyway', allowNetwork: false, env: {}, options: {} };

test('a key that is taken is already_exists naming the record, in every repo that inserts', (t) => {
  const { db, file } = tempDb(t);
  const volumes = new VolumesRepo(db);
  volumes.create('tls', {});
  failure(() => volumes.create('tls', {}), 'already_exists', /^volume "tls" already exists$/);
  const podman = new PodmanSecretsRepo(db);
  podman.insert({ id: 'c'.repeat(25), ref: 'ref+env://X', blobId: null, createdAt: 'now' });
  failure(() => podman.insert({ id: 'c'.repeat(25), ref: 'ref+env://Y', blobId: null, createdAt: 'now' }), 'already_exists', /^podman secret c{25} already exists$/);
  const sets = new MountSetsRepo(db);
  sets.insert({ id: 's1', consumer: 'c', path: '/run/k/s1', ownerPid: null, spec: { files: [] } });
  failure(() => sets.insert({ id: 's1', consumer: 'c', path: '/run/k/other', ownerPid: null, spec: { files: [] } }), 'already_exists', /^mount set s1 at \/run\/k\/other is already recorded$/);
  failure(() => sets.insert({ id: 's2', consumer: 'c', path: '/run/k/s1', ownerPid: null, spec: { files: [] } }), 'already_exists', /^mount set s2 at \/run\/k\/s1 is already recorded$/);
  volumes.insertMount('tls', 'm1', 's1');
  failure(() => volumes.insertMount('tls', 'm1', 's1'), 'already_exists', new RegExp(`^cannot write to volume_mounts in ${escaped(file)}: a record with that key already exists$`));
  const secrets = new SecretsRepo(db);
  secrets.put(secret('db'), false);
  failure(() => secrets.put(secret('db', 'd'.repeat(25)), false), 'already_exists', /^secret "db" already exists/);
  failure(() => secrets.put(secret('other', secret('db').id), false), 'already_exists', new RegExp(`^cannot write to secrets in ${escaped(file)}: a record with that key already exists$`));
  new PluginsRepo(db).put(plugin);
  failure(() => new PluginsRepo(db).put(plugin), 'already_exists', /^plugin "p1" is already registered/);
});

test('a row that breaks a rule of the schema is internal (a bug), naming the table', (t) => {
  const { db, file } = tempDb(t);
  failure(() => new PodmanSecretsRepo(db).insert({ id: 'e'.repeat(25), ref: null, blobId: null, createdAt: 'now' }), 'internal', new RegExp(`^cannot write to podman_secrets in ${escaped(file)}: a record breaks a rule of the database schema`));
  failure(() => new SecretsRepo(db).put(secret('short-id', 'abc'), false), 'internal', /cannot write to secrets in .*: a record breaks a rule of the database schema/);
});

test('while a second connection holds the write lock, every write is unavailable naming the database, and reads go on', (t) => {
  const { db, file } = tempDb(t, 50);
  const secrets = new SecretsRepo(db);
  secrets.put(secret('before'), false);
  const audit = new AuditLog(db);
  const holder = openDbFile(file, { readOnly: false });
  t.after(() => holder.close());
  holder.exec('BEGIN EXCLUSIVE');
  const locked = (what: string): RegExp => new RegExp(`^cannot ${what} in ${escaped(file)}: the database is locked by another process; try again$`);
  failure(() => secrets.put(secret('during'), false), 'unavailable', locked('start a transaction'));
  failure(() => secrets.delete('before'), 'unavailable', locked('start a transaction'));
  failure(() => new VolumesRepo(db).create('v', {}), 'unavailable', locked('write to volumes'));
  failure(() => new BlobsRepo(db).put({ id: 'b', keyId: 'k', nonce: Buffer.alloc(12), ciphertext: Buffer.alloc(1), tag: Buffer.alloc(16) }), 'unavailable', locked('write to local_blobs'));
  failure(() => new PluginsRepo(db).put(plugin), 'unavailable', locked('start a transaction'));
  failure(() => new MountSetsRepo(db).delete('s'), 'unavailable', locked('delete from mount_sets'));
  audit.record({ action: 'resolve', frontend: 'cli', outcome: 'ok' });
  failure(() => audit.flush(), 'unavailable', locked('write to audit'));
  assert.equal(secrets.get('before')?.name, 'before');
  holder.exec('ROLLBACK');
  secrets.put(secret('during'), false);
  assert.deepEqual(secrets.list().map((s) => s.name), ['before', 'during']);
});

test('a database opened read-only refuses every write as permission_denied', (t) => {
  const { db, file } = tempDb(t);
  new VolumesRepo(db).create('kept', {});
  const ro = openDbFile(file);
  t.after(() => ro.close());
  const readOnly = (what: string): RegExp => new RegExp(`^cannot ${what} in ${escaped(file)}: the database is read-only or not writable$`);
  failure(() => new VolumesRepo(ro).create('v', {}), 'permission_denied', readOnly('write to volumes'));
  failure(() => new VolumesRepo(ro).delete('kept'), 'permission_denied', readOnly('delete from volumes'));
  failure(() => new SecretsRepo(ro).put(secret('x'), false), 'permission_denied', /^cannot (start a transaction|write to secrets) in .*: the database is read-only or not writable$/);
  assert.deepEqual(new VolumesRepo(ro).list().map((v) => v.name), ['kept']);
});

test('a state dir on a read-only mount cannot be opened: permission_denied or failed_precondition, naming the file', { skip: ROOT_SKIP }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-boundary-ro-'));
  const empty = join(dir, 'empty');
  const used = join(dir, 'used');
  const loose = join(dir, 'loose');
  mkdirSync(empty, { mode: 0o700 });
  openDb(used).close();
  // Group-readable: keyway would tighten it to 0700, which the read-only mount refuses.
  mkdirSync(loose, { mode: 0o750 });
  const dirs = [empty, used, loose];
  for (const d of dirs) execFileSync('mount', ['--bind', '-o', 'ro', d, d]);
  t.after(() => {
    for (const d of dirs) execFileSync('umount', [d]);
    rmSync(dir, { recursive: true, force: true });
  });
  failure(() => openDb(empty), 'permission_denied', new RegExp(`^cannot create database ${escaped(join(empty, DB_FILE))}: EROFS`));
  failure(() => openDb(used), 'failed_precondition', new RegExp(`^cannot open database ${escaped(join(used, DB_FILE))}: the database cannot be read or written`));
  failure(() => openDb(loose), 'permission_denied', new RegExp(`^cannot prepare state dir ${escaped(loose)}: EROFS`));
});

test('a database whose pages were damaged on disk fails reads as failed_precondition, naming the table and file', (t) => {
  const { db, state, file } = tempDb(t);
  const secrets = new SecretsRepo(db);
  for (let i = 0; i < 200; i++) secrets.put(secret(`s${i}`, i.toString(16).padStart(25, '0')), false);
  db.close();
  // Page 1 (header and schema) stays, so the file still opens; every page after it is garbage.
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  for (let off = 4096; off < size; off += 4096) writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, off);
  closeSync(fd);
  const damaged = openDb(state, 50);
  t.after(() => damaged.close());
  const corrupt = new RegExp(`^cannot read secrets in ${escaped(file)}: the database file is corrupt or not a keyway database$`);
  failure(() => new SecretsRepo(damaged).list(), 'failed_precondition', corrupt);
  failure(() => new SecretsRepo(damaged).get('s7'), 'failed_precondition', corrupt);
});

test('a JSON column changed outside keyway is failed_precondition naming the record, not a SyntaxError', (t) => {
  const { db, file } = tempDb(t);
  const secrets = new SecretsRepo(db);
  const plugins = new PluginsRepo(db);
  secrets.put(secret('db'), false);
  plugins.put(plugin);
  const other = openDbFile(file, { readOnly: false });
  other.exec(`UPDATE secrets SET labels = '{"team":' WHERE name = 'db'; UPDATE plugins SET env = 'not json' WHERE name = 'p1'`);
  other.close();
  failure(() => secrets.get('db'), 'failed_precondition', /^labels of secret "db" in the database is not valid JSON/);
  failure(() => secrets.list(), 'failed_precondition', /^labels of secret "db" in the database is not valid JSON/);
  failure(() => plugins.get('p1'), 'failed_precondition', /^env of plugin "p1" in the database is not valid JSON/);
});

test('a closed database is internal, naming the file', (t) => {
  const { db, file } = tempDb(t);
  const volumes = new VolumesRepo(db);
  db.close();
  failure(() => volumes.list(), 'internal', new RegExp(`^cannot read volumes in ${escaped(file)}: unexpected database error$`));
});

test('an audit write that fails in the background keeps its entries, reports the error and writes them once the lock is gone', async (t) => {
  const { db, file } = tempDb(t, 20);
  const errors: string[] = [];
  const audit = new AuditLog(db, { onError: (e) => errors.push((e as Error).message) });
  const holder = openDbFile(file, { readOnly: false });
  t.after(() => holder.close());
  holder.exec('BEGIN EXCLUSIVE');
  audit.record({ action: 'resolve', frontend: 'cli', subject: 'first', outcome: 'ok' });
  audit.record({ action: 'resolve', frontend: 'cli', subject: 'second', outcome: 'ok' });
  // The 50 ms timer fires while the lock is held; an exception there would end the process.
  await new Promise((r) => setTimeout(r, 300));
  assert.match(errors[0] ?? '', /^cannot write to audit in .*: the database is locked by another process; try again$/);
  holder.exec('ROLLBACK');
  audit.record({ action: 'resolve', frontend: 'cli', subject: 'third', outcome: 'ok' });
  assert.deepEqual(audit.query().map((r) => r.subject), ['first', 'second', 'third']);
  assert.equal(audit.dropped, 0);
});

test('while audit writes keep failing, the queue stops at its cap and counts what it dropped', (t) => {
  const { db, file } = tempDb(t, 0);
  const audit = new AuditLog(db);
  const holder = openDbFile(file, { readOnly: false });
  t.after(() => holder.close());
  holder.exec('BEGIN EXCLUSIVE');
  for (let i = 0; i < MAX_QUEUED + 25; i++) audit.record({ action: 'resolve', frontend: 'cli', subject: `s${i}`, outcome: 'ok' });
  assert.equal(audit.dropped, 25);
  holder.exec('ROLLBACK');
  const rows = audit.query({ limit: MAX_QUEUED + 100 });
  assert.equal(rows.length, MAX_QUEUED);
  assert.equal(rows[0]?.subject, 's25');
});
