import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError } from '../../src/core/errors.js';
import { PluginHost } from '../../src/plugins/host/host.js';
import { ociArgs } from '../../src/plugins/host/sandbox.js';
import type { PluginEntry } from '../../src/plugins/entry.js';
import { captureLogger, deps, tempDir } from './helpers.js';
import { testInstance } from '../helpers/cli.js';
import { podmanSkipReason } from '../helpers/podman.js';
import { buildImage } from './oci-helpers.js';

const never = new AbortController().signal;

// Reports on the container it runs in: network interfaces, whether / is writable, capabilities.
const PLUGIN = `#!/bin/sh
IFS= read -r h
case "$h" in *'"op":"describe"'*) printf '{"v":1,"id":"1","ok":true,"protocol":1,"ops":["describe","lookup"],"option_keys":[]}\\n'; exit 0;; esac
nets=$(ls /sys/class/net | tr '\\n' ,)
if touch /evil 2>/dev/null; then ro=writable; else ro=readonly; fi
caps=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
out="nets=$nets root=$ro caps=$caps greeting=$GREETING"
printf '{"v":1,"id":"1","ok":true,"size":%d}\\n%s' \${#out} "$out"
`;

test('OCI image arguments pin the digest, never pull, drop caps, and pass env by name only', () => {
  const a = ociArgs({ kind: 'oci', engine: 'podman', image: `x@sha256:${'b'.repeat(64)}`, allowNetwork: false, runtime: 'runc', runAs: { uid: 65534, gid: 65534 } }, { TOKEN_FILE: '/run/x' }, { nproc: 64 });
  for (const flag of ['--pull', 'never', '--read-only', '--cap-drop', 'all', '--network', 'none', '--runtime', 'runc', '--pids-limit', '64']) assert.ok(a.includes(flag), flag);
  assert.ok(a.includes('TOKEN_FILE') && !a.some((x) => x.includes('/run/x')), 'env values never in argv');
  assert.throws(() => ociArgs({ kind: 'oci', engine: 'podman', image: 'x:latest', allowNetwork: false, runAs: { uid: 65534, gid: 65534 } }, {}, {}), (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument');
});

test('an OCI-image plugin runs through podman with no network, a read-only root and no capabilities', { skip: podmanSkipReason() }, async (t) => {
  const dir = tempDir(t, 'keyway-oci-');
  const img = buildImage(t, dir, 'keyway-test-plugin', { '/bin/plugin': { body: PLUGIN, mode: 0o755 } });
  const { CONTAINERS_CONF: conf = '', CONTAINERS_STORAGE_CONF: storage = '' } = img.engineEnv;
  const digest = img.ref.slice(img.ref.indexOf('@') + 1);
  const { logger } = captureLogger();
  const entry: PluginEntry = { name: 'oci', ociImage: `localhost/keyway-test-plugin@${digest}`, runtime: 'runc', lifecycle: 'oneshot', dialect: 'keyway', allowNetwork: false, env: { GREETING: 'hi' }, timeoutMs: 30_000, sandbox: true, roBinds: [], optionKeys: [] };
  const launches: unknown[] = [];
  const host = new PluginHost(entry, deps(logger, { ociEngineEnv: { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage } }, launches as never));
  const out = (await host.lookup('x', {}, never)).value.expose().toString();
  assert.match(out, /nets=(lo,)?\s/, 'no interface but loopback');
  assert.match(out, /root=readonly/);
  assert.match(out, /caps=0000000000000000/);
  assert.match(out, /greeting=hi$/, 'entry env passed by name');
  assert.equal(launches.length, 1);

  // A digest that is not present locally is never pulled.
  const missing = new PluginHost({ ...entry, ociImage: `localhost/keyway-test-plugin@sha256:${'0'.repeat(64)}` }, deps(logger, { ociEngineEnv: { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage } }));
  await assert.rejects(missing.lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable');

  // Through the CLI: register by digest (describe runs in the container), then ref+NAME:// works.
  const inst = testInstance(t);
  const engine = { CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage };
  const reg = inst.run(['plugin', 'register', 'ocip', '--oci-image', entry.ociImage ?? '', '--runtime', 'runc', '--env', 'GREETING=cli'], { env: engine });
  assert.equal(reg.status, 0, reg.stderr.toString());
  assert.match(reg.stdout.toString(), /^ocip localhost\/keyway-test-plugin@sha256:[0-9a-f]{64} keyway oneshot$/m);
  const got = inst.run(['get', 'ref+ocip://x'], { env: engine });
  assert.equal(got.status, 0, got.stderr.toString());
  assert.match(got.stdout.toString(), /greeting=cli$/);
  assert.equal(inst.run(['plugin', 'verify', 'ocip'], { env: engine }).status, 0);
});
