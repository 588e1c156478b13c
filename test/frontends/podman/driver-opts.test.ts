import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { KeywayError } from '../../../src/core/errors.js';
import { driverCommand, driverOpts, shellQuote } from '../../../src/frontends/podman/driver-opts.js';

const spec = { cli: ['/usr/bin/node', '/opt/keyway/dist/cli.js'], globals: ['--state-dir', '/var/lib/keyway'] };

test('shell quoting survives /bin/sh for any printable word, quotes and spaces included', () => {
  const words = fc.array(fc.string({ unit: fc.constantFrom(...'ab \'$`\\!*?;&|<>(){}[]~#%^é'.split('')), minLength: 0, maxLength: 12 }), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(words, (ws) => {
      const r = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${ws.map(shellQuote).join(' ')}`]);
      assert.deepEqual(r.stdout.toString().split('\0').slice(0, -1), ws);
    }),
    { numRuns: 60 },
  );
});

test('driver-opts lists the four ops in Podman\'s order with exec of quoted words', () => {
  assert.equal(
    driverOpts(spec),
    ['list', 'lookup', 'store', 'delete'].map((op) => `${op}=exec '/usr/bin/node' '/opt/keyway/dist/cli.js' '--state-dir' '/var/lib/keyway' 'podman' '${op}'`).join(','),
  );
});

test('the fast lookup client wraps the in-process lookup as its fallback', () => {
  const cmd = driverCommand({ ...spec, lookupCli: ['/usr/bin/node', '/opt/keyway/dist/cli/podman-lookup.js'], fastLookup: { interpreter: '/usr/bin/perl', client: '/opt/keyway/bin/keyway-podman-lookup', socket: '/run/keyway/podman-lookup.sock', stateDir: '/var/lib/keyway' } }, 'lookup');
  assert.equal(cmd, "exec '/usr/bin/perl' '/opt/keyway/bin/keyway-podman-lookup' '/run/keyway/podman-lookup.sock' '/var/lib/keyway' '--' '/usr/bin/node' '/opt/keyway/dist/cli/podman-lookup.js' '--state-dir' '/var/lib/keyway'");
});

test('commas, double quotes and control characters in any word are refused, naming the word', () => {
  for (const bad of ['/var/lib/a,b', '/var/lib/"x"', '/var/lib/a\nb', '/var/lib/\u0001']) {
    assert.throws(
      () => driverOpts({ ...spec, globals: ['--state-dir', bad] }),
      (e: unknown) => e instanceof KeywayError && e.code === 'invalid_argument' && e.message.includes('cannot build --driver-opts') && e.message.includes(JSON.stringify(bad)),
    );
  }
});
