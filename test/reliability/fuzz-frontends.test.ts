// Fuzzing of the Docker volume API and the Swarm secret provider through the real HTTP handler on
// a unix socket (the in-test backend of the protocol tests keeps secrets in memory, so only the
// frontend's parsing and bookkeeping is under test). Property: every request gets HTTP 200, a
// clean HTTP 500 {"Err": "keyway: CODE: ..."} or 404 for an unknown path; no error quotes a secret;
// the server keeps serving; nothing is left mounted. CSI attributes/objects and the podman plugin
// framing are fuzzed next to their parsers (test/frontends/csi, test/frontends/podman).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { ERROR_CODES, KeywayError } from '../../src/core/errors.js';
import { parseVolumeOptions, VOLUME_OPTION_KEYS } from '../../src/frontends/docker-volume/volume-options.js';
import { swarmTarget } from '../../src/frontends/swarm/secret-provider.js';
import { call, fakeWorld, type PluginReply } from '../frontends/docker-volume/fixtures.js';

const CANARY = 'fuzz-canary-9d1e';
const CODES = new RegExp(`^keyway: (${ERROR_CODES.join('|')}): [^\\n]+$`);

const names = fc.oneof(
  fc.constantFrom('db', 'dir', 'bin', 'broken', '..', '.', 'a/b', '', ' ', 'x'.repeat(300), 'db\u0000', 'é'),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.constant(null),
  fc.constant(['db']),
);
const optValue = fc.oneof(
  fc.constantFrom('db', 'db,bin', 'db,,bin', 'ref+mem://db', 'ref+broken://x', 'vault://x', '0400', '0777', '999', '-1', '1e3', '4294967295', '0', ''),
  fc.string({ maxLength: 10 }),
  fc.integer(),
  fc.constant(null),
  fc.constant({}),
);
const opts = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.dictionary(fc.oneof(fc.constantFrom(...VOLUME_OPTION_KEYS), fc.string({ maxLength: 6 })), optValue, { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const ids = fc.oneof(fc.constantFrom('a'.repeat(64), 'b'.repeat(64), '', '../x'), fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null));

/** A request body: a structured one, arbitrary JSON, or bytes that may not be JSON at all. */
const volumeBody = fc.oneof(
  // Well-formed bodies for the volumes created up front, so the success paths are fuzzed too.
  { weight: 3, arbitrary: fc.record({ Name: fc.constantFrom('db', 'dir'), ID: fc.constantFrom('a'.repeat(64), 'b'.repeat(64), 'c1') }) },
  { weight: 6, arbitrary: fc.record({ Name: names, Opts: opts, ID: ids }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '{"Name":', 'null', '[]', '{"Name":"db","ID":"a"}{}') },
);
const swarmBody = fc.oneof(
  { weight: 6, arbitrary: fc.record({ SecretName: names, SecretLabels: fc.oneof(fc.dictionary(fc.constantFrom('keyway.ref', 'keyway.secret', 'other', ''), optValue, { maxKeys: 3 }), fc.jsonValue({ maxDepth: 1 })), ServiceName: names, TaskID: ids }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
);

function assertClean(r: PluginReply, what: string): void {
  if (r.status === 200) {
    assert.equal(r.body.Err ?? '', '', `${what}: 200 with an error`);
    return;
  }
  const err = String(r.body.Err);
  assert.equal(r.status, err.startsWith('keyway: invalid_argument:') ? 400 : 500, `${what}: status ${r.status} ${JSON.stringify(r.body)}`);
  assert.match(err, CODES, `${what}: unclean error`);
  assert.ok(!err.includes(CANARY), `${what}: the error quotes a secret`);
}

test('the Docker volume API answers any body with 200 or a clean 400/500, quotes no secret and keeps serving', async (t) => {
  const w = fakeWorld(t);
  const createdAt = new Date().toISOString();
  for (const n of ['db', 'bin', 'dir']) w.secrets.set(n, { bytes: Buffer.from(`${CANARY}-${n}`), createdAt });
  w.refs.set('ref+mem://db', Buffer.from(CANARY));
  const p = w.plugin();
  await p.start();
  // Volumes to mount, so the fuzzer reaches the success paths too (it may remove them again).
  assert.equal((await call(p.socket, '/VolumeDriver.Create', { Name: 'db', Opts: null })).status, 200);
  assert.equal((await call(p.socket, '/VolumeDriver.Create', { Name: 'dir', Opts: { secrets: 'db,bin', mode: '0440' } })).status, 200);
  let mounted = 0;
  const paths = ['Create', 'Remove', 'Get', 'Path', 'Mount', 'Unmount'].map((s) => `/VolumeDriver.${s}`);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...paths), volumeBody, async (path, body) => {
      const r = await call(p.socket, path, body);
      assertClean(r, `${path} ${JSON.stringify(body)}`);
      // A mount that succeeded is given back at once, so the bookkeeping below must come out empty.
      if (path.endsWith('Mount') && r.status === 200 && typeof body === 'object' && body !== null) {
        mounted++;
        const u = await call(p.socket, '/VolumeDriver.Unmount', body);
        assert.equal(u.status, 200, JSON.stringify(u.body));
      }
    }),
    { numRuns: 600 },
  );
  assert.ok(mounted > 0, 'the fuzzer reached a successful mount');
  assert.equal((await call(p.socket, '/VolumeDriver.Capabilities', '')).status, 200, 'still serving');
  assert.equal((await call(p.socket, '/VolumeDriver.Create', { Name: 'db', Opts: null })).status, 200);
  const m = await call(p.socket, '/VolumeDriver.Mount', { Name: 'db', ID: 'f'.repeat(64) });
  assert.equal(m.status, 200, 'a good mount still works after the fuzzing');
  assert.equal((await call(p.socket, '/VolumeDriver.Unmount', { Name: 'db', ID: 'f'.repeat(64) })).status, 200);
  assert.deepEqual(w.repo.listMounts(), [], 'no mount record left');
  assert.deepEqual(readdirSync(w.setsDir), [], 'no mount set left');
});

test('Swarm GetSecret answers any body with the value or a clean 400/500, and keeps serving', async (t) => {
  const w = fakeWorld(t);
  w.secrets.set('db', { bytes: Buffer.from(CANARY), createdAt: new Date().toISOString() });
  w.refs.set('ref+mem://db', Buffer.from(CANARY));
  const p = w.plugin();
  await p.start();
  await fc.assert(
    fc.asyncProperty(swarmBody, async (body) => {
      const r = await call(p.socket, '/SecretProvider.GetSecret', body);
      assertClean(r, JSON.stringify(body));
      if (r.status === 200) assert.equal(Buffer.from(String(r.body.Value), 'base64').toString(), CANARY);
    }),
    { numRuns: 400 },
  );
  const ok = await call(p.socket, '/SecretProvider.GetSecret', { SecretName: 'db' });
  assert.equal(Buffer.from(String(ok.body.Value), 'base64').toString(), CANARY, 'still serving');
});

test('the volume option and swarm label parsers throw nothing but invalid_argument KeywayErrors', () => {
  const only = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof KeywayError, `threw ${String(e)}`);
      assert.equal(e.code, 'invalid_argument');
      assert.ok(!e.message.includes('\n'));
    }
  };
  fc.assert(
    fc.property(names, opts, fc.jsonValue({ maxDepth: 2 }), (name, o, any) => {
      only(() => parseVolumeOptions(typeof name === 'string' ? name : 'v', o));
      only(() => parseVolumeOptions('v', any));
      only(() => swarmTarget({ SecretName: name, SecretLabels: o }));
    }),
    { numRuns: 3000 },
  );
});

test('generated valid volume options parse to the right spec, and known-bad ones are refused', () => {
  const secretName = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,15}$/).filter((n) => !n.startsWith('..'));
  const valid = fc.record(
    {
      source: fc.oneof(
        fc.constant(undefined),
        secretName.map((n) => ({ secret: n })),
        fc.uniqueArray(secretName, { minLength: 1, maxLength: 4 }).map((ns) => ({ secrets: ns.join(',') })),
        fc.stringMatching(/^[a-z0-9/]{1,12}$/).filter((p) => !p.startsWith('/') && !p.includes('//')).map((p) => ({ ref: `ref+vault://${p}` })),
      ),
      mode: fc.option(fc.integer({ min: 0, max: 0o777 }), { nil: undefined }),
      uid: fc.option(fc.nat({ max: 0xfffffffe }), { nil: undefined }),
      gid: fc.option(fc.nat({ max: 0xfffffffe }), { nil: undefined }),
    },
    { requiredKeys: ['source'] },
  );
  fc.assert(
    fc.property(valid, (v) => {
      const opts: Record<string, string> = { ...(v.source ?? {}) };
      if (v.mode !== undefined) opts.mode = '0' + v.mode.toString(8).padStart(3, '0');
      if (v.uid !== undefined) opts.uid = String(v.uid);
      if (v.gid !== undefined) opts.gid = String(v.gid);
      const spec = parseVolumeOptions('vol', opts);
      if (Object.keys(opts).length === 0) return assert.equal(spec, undefined);
      assert.ok(spec);
      if (v.source && 'secret' in v.source) assert.deepEqual(spec.source, { kind: 'secret', name: v.source.secret });
      else if (v.source && 'secrets' in v.source) assert.deepEqual(spec.source, { kind: 'secrets', names: v.source.secrets.split(',') });
      else if (v.source && 'ref' in v.source) assert.deepEqual(spec.source, { kind: 'ref', ref: v.source.ref });
      else assert.deepEqual(spec.source, { kind: 'secret', name: 'vol' });
      assert.equal(spec.mode, v.mode);
      assert.equal(spec.uid, v.uid);
      assert.equal(spec.gid, v.gid);
    }),
    { numRuns: 2000 },
  );
  const knownBad = fc.oneof(
    fc.stringMatching(/^[a-z]{2,10}$/).filter((k) => !(VOLUME_OPTION_KEYS as readonly string[]).includes(k)).map((k) => ({ [k]: 'x' })),
    fc.integer({ min: 0o1000, max: 0o7777 }).map((m) => ({ mode: m.toString(8) })),
    fc.stringMatching(/^[0-9]*[a-z-][0-9a-z-]*$/).map((u) => ({ uid: u })),
    fc.tuple(secretName, secretName).map(([a, b]) => ({ secret: a, secrets: b })),
    secretName.map((n) => ({ secrets: `${n},${n}` })),
    fc.stringMatching(/^[a-z]{1,8}$/).map((p) => ({ ref: `vault://${p}` })),
  );
  fc.assert(
    fc.property(knownBad, (opts) => {
      assert.throws(() => parseVolumeOptions('vol', opts), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument', JSON.stringify(opts));
    }),
    { numRuns: 2000 },
  );
});
