import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { PluginsRepo } from '../../src/store/plugins.js';
import { openDb } from '../../src/store/db.js';
import { AuditLog } from '../../src/store/audit.js';
import { join } from 'node:path';
import { scanFor, testInstance } from '../helpers/cli.js';
import { podmanSkipReason, storageConf } from '../helpers/podman.js';
import { FILES_PLUGIN, MEMORY_PLUGIN, NODE_MODULES, REPO, TSX_IMPORT, canSandbox, script } from './helpers.js';

// Written only to the Podman design doc's stateless protocol: {"SecretName","ProviderOpts"} + newline
// on stdin, the raw bytes on stdout, non-zero exit for an unknown name.
const PODMAN_DOC_PLUGIN = `#!/bin/sh
IFS= read -r req
name=$(printf '%s' "$req" | sed -n 's/.*"SecretName":"\\([^"]*\\)".*/\\1/p')
case "$name" in
  db-password) printf 'pa55-from-podman-plugin' ;;
  *) echo "no such secret: $name" >&2; exit 1 ;;
esac
`;

test('a Podman-doc-protocol plugin serves ref+NAME://... after plugin import --containers-conf', { skip: canSandbox() }, (t) => {
  const inst = testInstance(t);
  const plugin = script(inst.dir, 'podman-secret-demo', PODMAN_DOC_PLUGIN);
  const conf = join(inst.dir, 'containers.conf');
  writeFileSync(conf, `[secrets]\ndriver = "file"\n\n[secrets.driver_plugins]\ndemo = "${plugin}"\n`);
  const imp = inst.run(['plugin', 'import', '--containers-conf', conf]);
  assert.equal(imp.status, 0, imp.stderr.toString());
  assert.match(imp.stdout.toString(), /^demo [0-9a-f]{64} podman$/m);

  const get = inst.run(['get', 'ref+demo://db-password']);
  assert.equal(get.status, 0, get.stderr.toString());
  assert.equal(get.stdout.toString(), 'pa55-from-podman-plugin');

  const missing = inst.run(['get', 'ref+demo://nope']);
  assert.equal(missing.status, 3);
  assert.match(missing.stderr.toString(), /^keyway: not_found: plugin demo exited with status 1.*no such secret: nope/m);

  const inspect = inst.run(['plugin', 'inspect', 'demo']);
  const info = JSON.parse(inspect.stdout.toString()) as Record<string, unknown>;
  assert.equal(info.Dialect, 'podman');
  assert.match(String(info.ImportedFrom), /secrets\.driver_plugins/);
  assert.deepEqual(scanFor([inst.stateDir], Buffer.from('pa55-from-podman-plugin')), [], 'no secret on disk');

  // The launch was audited with the verified hash.
  const db = inst.run(['plugin', 'verify', 'demo']);
  assert.equal(db.status, 0, db.stderr.toString());
  const sha = /sha256:([0-9a-f]{64})/.exec(db.stdout.toString())?.[1];
  assert.ok(sha);
  const store = openDb(inst.stateDir);
  try {
    const launches = new AuditLog(store).query().filter((a) => a.action === 'plugin.launch');
    assert.equal(launches.length, 2, 'one launch per lookup');
    assert.ok(launches.every((a) => a.subject === 'demo' && a.detail?.includes(`sha256=${sha}`) && a.detail.includes('sandbox=bwrap')));
  } finally {
    store.close();
  }

  // Registered by hand: it answers describe with nothing but a failure, so that is a failed
  // registration with its own error, until --dialect podman says what it is.
  const bad = inst.run(['plugin', 'register', 'demo2', plugin]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.toString(), /plugin demo2 exited with status 1 before answering; stderr: no such secret: .*--dialect podman/);
  const reg = inst.run(['plugin', 'register', 'demo2', plugin, '--dialect', 'podman']);
  assert.equal(reg.status, 0, reg.stderr.toString());
  assert.equal(inst.run(['get', 'ref+demo2://db-password']).stdout.toString(), 'pa55-from-podman-plugin');
  const conf2 = inst.run(['plugin', 'test', plugin, '--dialect', 'podman', '--lookup', 'db-password']);
  assert.equal(conf2.status, 0, conf2.stdout.toString());
  assert.match(conf2.stdout.toString(), /^PASS: 2 passed, 0 failed, 0 skipped$/m);

  // And pinned in the config file instead of the database.
  inst.writeConfig(`[plugins.fromconf]\npath = "${plugin}"\nsha256 = "${sha}"\ndialect = "podman"\n`);
  assert.equal(inst.run(['get', 'ref+fromconf://db-password']).stdout.toString(), 'pa55-from-podman-plugin');
  assert.match(inst.run(['plugin', 'ls']).stdout.toString(), /^fromconf\s+oneshot\s+podman\s+config\s+sha256:/m);
});

test('register, ls, inspect, verify and rm manage the catalog; a replaced executable is refused at every spawn', { skip: canSandbox() }, (t) => {
  const inst = testInstance(t);
  const files = join(inst.dir, 'files');
  mkdirSync(files);
  writeFileSync(join(files, 'token'), 'tok-123456');
  const pdir = join(inst.dir, 'plugins');
  mkdirSync(pdir);
  const copy = script(pdir, 'keyway-files', '');
  writeFileSync(copy, readFileSync(FILES_PLUGIN));
  inst.writeConfig(`plugin_dir = "${pdir}"\n`);
  const reg = inst.run(['plugin', 'register', 'files', copy, '--env', `FILES_DIR=${files}`, '--ro-bind', files]);
  assert.equal(reg.status, 0, reg.stderr.toString());
  assert.match(reg.stdout.toString(), /^files [0-9a-f]{64} keyway oneshot$/m);
  assert.equal(inst.run(['plugin', 'register', 'files', copy]).status, 1, 'duplicate refused');

  const ls = inst.run(['plugin', 'ls']).stdout.toString();
  assert.match(ls, /^NAME\s+LIFECYCLE\s+DIALECT\s+SOURCE\s+PINNED$/m);
  assert.match(ls, /^files\s+oneshot\s+keyway\s+registered\s+sha256:[0-9a-f]{12}$/m);
  const info = JSON.parse(inst.run(['plugin', 'inspect', 'files']).stdout.toString()) as Record<string, unknown>;
  assert.deepEqual(info.Ops, ['describe', 'lookup', 'list', 'version']);
  assert.deepEqual(info.Env, ['FILES_DIR'], 'inspect shows env names only');

  const get = inst.run(['get', 'ref+files://token']);
  assert.equal(get.status, 0, get.stderr.toString());
  assert.equal(get.stdout.toString(), 'tok-123456');

  appendFileSync(copy, '# tampered\n');
  for (let i = 0; i < 2; i++) {
    const r = inst.run(['get', 'ref+files://token']);
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /^keyway: checksum_mismatch: .*checksums did not match/m);
  }
  const v = inst.run(['plugin', 'verify', 'files']);
  assert.equal(v.status, 1);
  assert.match(v.stderr.toString(), /checksum_mismatch/);

  // A path outside plugin_dir cannot be registered.
  const out = inst.run(['plugin', 'register', 'outside', FILES_PLUGIN]);
  assert.equal(out.status, 1);
  assert.match(out.stderr.toString(), /outside of plugin_dir/);

  assert.equal(inst.run(['plugin', 'rm', 'files']).status, 0);
  assert.equal(inst.run(['plugin', 'rm', 'files']).status, 3);
  assert.equal(inst.run(['get', 'ref+files://token']).status, 3);
});

test('both example plugins pass keyway plugin test', { skip: canSandbox() }, (t) => {
  const inst = testInstance(t);
  const files = join(inst.dir, 'files');
  mkdirSync(files);
  writeFileSync(join(files, 'a'), 'A');
  const sh = inst.run(['plugin', 'test', FILES_PLUGIN, '--env', `FILES_DIR=${files}`, '--ro-bind', files, '--lookup', 'a']);
  assert.equal(sh.status, 0, sh.stdout.toString() + sh.stderr.toString());
  assert.match(sh.stdout.toString(), /^ok {3}describe answers protocol 1/m);
  assert.match(sh.stdout.toString(), /^PASS: /m);

  const ts = inst.run(['plugin', 'test', MEMORY_PLUGIN, '--lifecycle', 'serve', '--env', `NODE_OPTIONS=--import=${TSX_IMPORT}`, '--ro-bind', REPO, '--ro-bind', NODE_MODULES, '--lookup', 'demo/1']);
  assert.equal(ts.status, 0, ts.stdout.toString() + ts.stderr.toString());
  assert.doesNotMatch(ts.stdout.toString(), /^(FAIL|skip) /m, 'the TS example implements every op');
});

test('a deliberately broken plugin fails keyway plugin test with clear per-case output', { skip: canSandbox() }, (t) => {
  const inst = testInstance(t);
  // Answers describe correctly but claims every lookup succeeds and accepts unknown ops.
  const broken = script(inst.dir, 'broken', `#!/bin/sh
IFS= read -r h
id=$(printf '%s' "$h" | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')
case "$h" in
  *'"op":"describe"'*) printf '{"v":1,"id":"%s","ok":true,"protocol":1,"ops":["describe","lookup"],"option_keys":[]}\\n' "$id" ;;
  *) printf '{"v":1,"id":"%s","ok":true,"size":3}\\nyes' "$id" ;;
esac
`);
  const r = inst.run(['plugin', 'test', broken]);
  assert.equal(r.status, 1);
  const out = r.stdout.toString();
  assert.match(out, /^ok {3}describe answers protocol 1/m);
  assert.match(out, /^FAIL lookup of a missing path answers not_found — lookup of a missing path succeeded$/m);
  assert.match(out, /^FAIL an unknown op answers unsupported with the request id — unknown op was answered ok$/m);
  assert.match(out, /^skip store then lookup/m);
  assert.match(out, /^FAIL: 1 passed, 2 failed, \d+ skipped$/m);
});

// Answers any name with a value, as raw bytes: it plainly speaks another protocol than frames.
const PODMAN_ECHO = `#!/bin/sh
IFS= read -r req
name=$(printf '%s' "$req" | sed -n 's/.*"SecretName":"\\([^"]*\\)".*/\\1/p')
printf 'value-for-%s' "$name"
`;

test('register fails with the plugin\'s own error when it cannot start, and detects the Podman dialect only from a non-frame answer', { skip: canSandbox() }, (t) => {
  const inst = testInstance(t);
  // The TS example without its loader cannot start: no silent fallback to the Podman dialect.
  const cannot = inst.run(['plugin', 'register', 'mem', MEMORY_PLUGIN, '--lifecycle', 'serve', '--ro-bind', REPO]);
  assert.notEqual(cannot.status, 0);
  assert.match(cannot.stderr.toString(), /^keyway: unavailable: plugin mem exited with status 1 .*stderr: .*--dialect podman/m);
  assert.doesNotMatch(inst.run(['plugin', 'ls']).stdout.toString(), /^mem /m, 'nothing was registered');

  const echo = script(inst.dir, 'echo-plugin', PODMAN_ECHO);
  const serve = inst.run(['plugin', 'register', 'echo', echo, '--lifecycle', 'serve']);
  assert.notEqual(serve.status, 0, 'a Podman-dialect plugin is never silently made oneshot');
  assert.match(serve.stderr.toString(), /cannot be a serve plugin/);
  const reg = inst.run(['plugin', 'register', 'echo', echo]);
  assert.equal(reg.status, 0, reg.stderr.toString());
  assert.match(reg.stdout.toString(), /^echo [0-9a-f]{64} podman oneshot$/m);
  assert.match(reg.stderr.toString(), /Podman dialect/);
  assert.equal(inst.run(['get', 'ref+echo://x']).stdout.toString(), 'value-for-x');

  // plugin test detects the dialect the same way.
  const tst = inst.run(['plugin', 'test', echo, '--lookup', 'x']);
  assert.match(tst.stdout.toString(), /^note: .*Podman dialect/m);
  assert.match(tst.stdout.toString(), /^ok {3}podman dialect: lookup of a known name/m);
});

test('an OCI image without a digest, or not present locally, is refused at register; one bad entry never breaks ls or inspect', (t) => {
  const inst = testInstance(t);
  const tag = inst.run(['plugin', 'register', 'tagged', '--oci-image', 'docker.io/library/alpine:latest']);
  assert.equal(tag.status, 2, tag.stderr.toString());
  assert.match(tag.stderr.toString(), /^keyway: invalid_argument: plugin tagged: OCI image "docker\.io\/library\/alpine:latest" must be pinned as IMAGE@sha256:DIGEST/m);
  if (podmanSkipReason() === undefined) {
    // A private, empty image store: the pinned image is certainly absent.
    const storage = join(inst.dir, 'storage.conf');
    writeFileSync(storage, storageConf(inst.dir));
    const absent = inst.run(['plugin', 'register', 'absent', '--oci-image', `localhost/none@sha256:${'0'.repeat(64)}`], { env: { CONTAINERS_STORAGE_CONF: storage } });
    assert.equal(absent.status, 3, absent.stderr.toString());
    assert.match(absent.stderr.toString(), /not present locally/);
  }
  assert.doesNotMatch(inst.run(['plugin', 'ls']).stdout.toString(), /tagged|absent/, 'nothing was registered');

  // An entry that became invalid (written by an older keyway) is listed with its error, beside the good one.
  const db = openDb(inst.stateDir);
  try {
    const repo = new PluginsRepo(db);
    const base = { path: null, sha256: null, runtime: null, lifecycle: 'oneshot', dialect: 'keyway', allowNetwork: false, env: {}, options: {} } as const;
    repo.put({ ...base, name: 'bad', ociImage: 'x:latest' });
    repo.put({ ...base, name: 'good', ociImage: `localhost/good@sha256:${'a'.repeat(64)}` });
  } finally {
    db.close();
  }
  const ls = inst.run(['plugin', 'ls']);
  assert.equal(ls.status, 0, ls.stderr.toString());
  assert.match(ls.stdout.toString(), /^bad\s+-\s+-\s+registered\s+invalid: .*IMAGE@sha256:DIGEST/m);
  assert.match(ls.stdout.toString(), /^good\s+oneshot\s+keyway\s+registered\s+localhost\/good@sha256:a{64}$/m);
  const json = JSON.parse(inst.run(['plugin', 'ls', '--format', 'json']).stdout.toString()) as { Name: string; Error?: string }[];
  assert.deepEqual(json.map((i) => [i.Name, i.Error !== undefined]), [['bad', true], ['good', false]]);
  assert.equal(inst.run(['plugin', 'inspect', 'good']).status, 0);
});
