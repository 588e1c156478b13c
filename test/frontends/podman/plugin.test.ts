// `keyway podman-plugin` driven exactly as docs/podman-plugin-protocol.md says a host (Podman, or
// keyway's own plugin host) does: exec without a shell, one request on stdin, EOF, read stdout to
// EOF, check the exit status.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CLI, makeInstance, type Instance, testInstance } from '../../helpers/cli.js';

const ID = '0123456789abcdef012345678';
const VALUE = Buffer.from([0x00, 0x0a, 0x7b, 0x22, 0x0a, 0xff, 0x00]); // NULs, newlines, a stray `{"`

function inst(t: { after: (fn: () => void) => void }): Instance {
  return testInstance(t, 'keyway-podman-plugin-');
}

/** One exchange. The plugin's argv holds only keyway's path flags; its env only the instance's. */
function call(i: Instance, request: Buffer | string) {
  const r = spawnSync(process.execPath, [CLI, '--state-dir', i.stateDir, '--config', i.configPath, 'podman-plugin'], {
    env: { PATH: '/usr/bin:/bin', KEYWAY_RUNTIME_DIR: i.runtimeDir },
    input: request,
    maxBuffer: 1 << 24,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

function frame(header: Record<string, unknown>, payload: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), payload]);
}

/** Splits a driver answer into its header and payload. */
function answer(stdout: Buffer): { header: Record<string, unknown>; payload: Buffer } {
  const nl = stdout.indexOf(0x0a);
  assert.ok(nl > 0, `no header line in ${JSON.stringify(stdout.toString())}`);
  return { header: JSON.parse(stdout.subarray(0, nl).toString()) as Record<string, unknown>, payload: stdout.subarray(nl + 1) };
}

function failed(r: ReturnType<typeof call>, code: string, exit: number, message: RegExp): void {
  assert.equal(r.status, exit, r.stderr);
  const a = answer(r.stdout);
  assert.deepEqual(Object.keys(a.header), ['Error']);
  const err = a.header.Error as { Code: string; Message: string };
  assert.equal(err.Code, code);
  assert.match(err.Message, message);
  assert.equal(a.payload.length, 0);
  assert.equal(r.stderr, `keyway: ${code}: ${err.Message}\n`);
}

before(() => makeInstance().cleanup());

test('store, lookup, list and delete round-trip a binary value as header plus raw bytes', (t) => {
  const i = inst(t);
  const st = call(i, frame({ Op: 'store', ID, DriverOpts: {}, Size: VALUE.length }, VALUE));
  assert.equal(st.status, 0, st.stderr);
  assert.deepEqual(st.stdout, Buffer.from(`{"ID":"${ID}"}\n`));
  const lk = call(i, frame({ Op: 'lookup', ID, DriverOpts: {} }));
  assert.equal(lk.status, 0, lk.stderr);
  assert.deepEqual(lk.stdout, Buffer.concat([Buffer.from(`{"ID":"${ID}","Size":${VALUE.length}}\n`), VALUE]));
  assert.deepEqual(answer(call(i, frame({ Op: 'list' })).stdout).header, { IDs: [ID] });
  const del = call(i, frame({ Op: 'delete', ID, Size: 0 }));
  assert.equal(del.status, 0, del.stderr);
  assert.deepEqual(answer(del.stdout).header, { ID });
  assert.deepEqual(answer(call(i, frame({ Op: 'list' })).stdout).header, { IDs: [] });
  failed(call(i, frame({ Op: 'lookup', ID })), 'not_found', 3, /no podman secret 0123456789abcdef012345678/);
  failed(call(i, frame({ Op: 'delete', ID })), 'not_found', 3, /no podman secret/);
});

test('a driver secret is the same record the shell driver serves', (t) => {
  const i = inst(t);
  assert.equal(call(i, frame({ Op: 'store', ID, Size: VALUE.length }, VALUE)).status, 0);
  const viaShell = i.run(['podman', 'lookup'], { env: { SECRET_ID: ID } });
  assert.equal(viaShell.status, 0, viaShell.stderr.toString());
  assert.deepEqual(viaShell.stdout, VALUE);
});

test('DriverOpts ref keeps a reference per secret; a ref+ payload line does too', (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 'db', '-'], { input: '{"password":"hunter2"}' }).status, 0);
  const st = call(i, frame({ Op: 'store', ID, DriverOpts: { ref: 'ref+secret://db#/password' }, Size: 1 }, Buffer.from('\n')));
  assert.equal(st.status, 0, st.stderr);
  const lk = answer(call(i, frame({ Op: 'lookup', ID, DriverOpts: { ref: 'ref+secret://db#/password' } })).stdout);
  assert.deepEqual(lk.header, { ID, Size: 7 });
  assert.equal(lk.payload.toString(), 'hunter2');
  const id2 = 'abcdefabcdefabcdefabcdef0';
  const line = Buffer.from('ref+secret://db\n');
  assert.equal(call(i, frame({ Op: 'store', ID: id2, Size: line.length }, line)).status, 0);
  assert.equal(answer(call(i, frame({ Op: 'lookup', ID: id2 })).stdout).payload.toString(), '{"password":"hunter2"}');
  failed(call(i, frame({ Op: 'store', ID: 'aaaa', DriverOpts: { ref: 'ref+secret://db' }, Size: 1 }, Buffer.from('x'))), 'invalid_argument', 2, /payload must be empty/);
  failed(call(i, frame({ Op: 'store', ID: 'aaaa', DriverOpts: { ref: 'ref+secret://nope' } })), 'not_found', 3, /no secret named "nope"/);
});

test('the stateless provider request answers bare bytes, and errors only on stderr with a non-zero exit', (t) => {
  const i = inst(t);
  assert.equal(i.run(['secret', 'create', 'db', '-'], { input: VALUE }).status, 0);
  const ok = call(i, '{"SecretName":"db","ProviderOpts":{}}\n');
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(ok.stdout, VALUE);
  const noNewline = call(i, '{"SecretName":"db"}');
  assert.deepEqual(noNewline.stdout, VALUE);
  const viaRef = call(i, '{"SecretName":"whatever","ProviderOpts":{"ref":"ref+secret://db"}}\n');
  assert.deepEqual(viaRef.stdout, VALUE);
  const missing = call(i, '{"SecretName":"nope","ProviderOpts":{}}\n');
  assert.equal(missing.status, 3);
  assert.equal(missing.stdout.length, 0);
  assert.equal(missing.stderr, 'keyway: not_found: no secret named "nope"\n');
  const badOpt = call(i, '{"SecretName":"db","ProviderOpts":{"colour":"red"}}\n');
  assert.equal(badOpt.status, 2);
  assert.equal(badOpt.stdout.length, 0);
  assert.match(badOpt.stderr, /^keyway: invalid_argument: podman-plugin request: "ProviderOpts" has unknown option "colour"/);
});

test('malformed headers, wrong sizes and unknown ops fail clearly, non-zero, and store nothing', (t) => {
  const i = inst(t);
  const cases: [string, Buffer | string, string, number, RegExp][] = [
    ['empty stdin', '', 'invalid_argument', 2, /stdin was empty/],
    ['not JSON', 'hello\n', 'invalid_argument', 2, /not valid UTF-8 JSON/],
    ['a JSON array', '[1,2]\n', 'invalid_argument', 2, /not a JSON object/],
    ['a header over 64 KiB', frame({ Op: 'list', Pad: 'x'.repeat(70000) }), 'invalid_argument', 2, /longer than 65536/],
    ['a short payload', frame({ Op: 'store', ID, Size: 10 }, Buffer.from('abc')), 'invalid_argument', 2, /3 payload bytes follow the header but "Size" is 10/],
    ['a long payload', frame({ Op: 'store', ID, Size: 2 }, Buffer.from('abcd')), 'invalid_argument', 2, /4 payload bytes follow the header but "Size" is 2/],
    ['a negative Size', frame({ Op: 'store', ID, Size: -1 }), 'invalid_argument', 2, /"Size" must be a non-negative integer/],
    ['a fractional Size', frame({ Op: 'store', ID, Size: 1.5 }, Buffer.from('a')), 'invalid_argument', 2, /"Size" must be a non-negative integer/],
    ['Size at the Podman limit', frame({ Op: 'store', ID, Size: 512000 }), 'too_large', 1, /512000/],
    ['an empty store', frame({ Op: 'store', ID, Size: 0 }), 'invalid_argument', 2, /empty/],
    ['an unknown op', frame({ Op: 'inspect', ID }), 'unsupported', 1, /unknown "Op" "inspect" \(expected store, lookup, delete, list\)/],
    ['no op at all', frame({ ID }), 'invalid_argument', 2, /neither "Op"/],
    ['a missing ID', frame({ Op: 'lookup' }), 'invalid_argument', 2, /"lookup" needs "ID"/],
    ['an empty ID', frame({ Op: 'delete', ID: '' }), 'invalid_argument', 2, /is empty/],
    ['a path as ID', frame({ Op: 'lookup', ID: '../../x' }), 'invalid_argument', 2, /not a Podman secret id/],
    ['an unknown driver option', frame({ Op: 'lookup', ID, DriverOpts: { colour: 'red' } }), 'invalid_argument', 2, /unknown option "colour"/],
    ['a non-string option', frame({ Op: 'lookup', ID, DriverOpts: { ref: 1 } }), 'invalid_argument', 2, /"DriverOpts.ref" must be a string/],
    ['a payload on lookup', frame({ Op: 'lookup', ID, Size: 1 }, Buffer.from('x')), 'invalid_argument', 2, /carries no payload/],
    ['both Op and SecretName', frame({ Op: 'lookup', ID, SecretName: 'db' }), 'invalid_argument', 2, /both "Op"/],
  ];
  for (const [what, req, code, exit, re] of cases) {
    const r = call(i, req);
    assert.equal(r.status, exit, `${what}: ${r.stderr}`);
    failed(r, code, exit, re);
  }
  assert.deepEqual(answer(call(i, frame({ Op: 'list' })).stdout).header, { IDs: [] });
  // Failed payloads never show up in messages.
  const secretish = Buffer.from('TOP-SECRET-PAYLOAD');
  const r = call(i, frame({ Op: 'store', ID, Size: 99 }, secretish));
  assert.ok(!r.stderr.includes('TOP-SECRET') && !r.stdout.includes(secretish));
});
