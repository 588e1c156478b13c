import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeywayError, type ErrorCode } from '../../src/core/errors.js';
import { SecretValue } from '../../src/core/secret-value.js';
import { PluginHost } from '../../src/plugins/host/host.js';
import { captureLogger, deps, entryFor, script, tempDir, lastingZombies, lastingProcesses } from './helpers.js';

const never = new AbortController().signal;
const SECRET = 'TOPSECRET-7f3a9c-value';

// A oneshot plugin that answers correctly: proves the host keeps serving after each failure.
const GOOD = `#!/bin/sh
IFS= read -r h
id=$(printf '%s' "$h" | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')
printf '{"v":1,"id":"%s","ok":true,"size":2}\\nok' "$id"
`;

const CASES: { name: string; body: string; code: ErrorCode; msg: RegExp }[] = [
  { name: 'garbage on stdout', body: '#!/bin/sh\nread -r h\necho "hello, I am not a frame"\n', code: 'internal', msg: /broke the protocol.*not valid JSON/ },
  { name: 'a header over 64 KiB', body: '#!/bin/sh\nread -r h\nhead -c 70000 /dev/zero | tr "\\0" a\nsleep 5\n', code: 'too_large', msg: /header exceeds 65536/ },
  { name: 'a size that lies (too big)', body: '#!/bin/sh\nread -r h\nprintf \'{"v":1,"id":"1","ok":true,"size":100}\\nshort\'\n', code: 'unavailable', msg: /exited with status 0 in the middle of a frame/ },
  { name: 'a size that lies (too small)', body: '#!/bin/sh\nread -r h\nprintf \'{"v":1,"id":"1","ok":true,"size":2}\\nmuch longer\'\n', code: 'internal', msg: /bytes after the response frame/ },
  { name: 'exiting mid-frame', body: '#!/bin/sh\nread -r h\nprintf \'{"v":1,"id":"1","ok":true,"size":10}\\nabc\'\nexit 1\n', code: 'unavailable', msg: /exited with status 1 in the middle of a frame/ },
  { name: 'never answering', body: '#!/bin/sh\nread -r h\nexec sleep 30\n', code: 'timeout', msg: /did not answer within its deadline/ },
  { name: 'exiting without a word', body: '#!/bin/sh\nexit 7\n', code: 'unavailable', msg: /exited with status 7 before answering/ },
  { name: 'a payload over the cap', body: '#!/bin/sh\nread -r h\nprintf \'{"v":1,"id":"1","ok":true,"size":99999999}\\n\'\nsleep 5\n', code: 'too_large', msg: /exceeds the limit/ },
];

for (const c of CASES) {
  test(`a plugin with ${c.name} gets a clear ${c.code} error within the timeout, no zombie, and the host keeps serving`, async (t) => {
    const dir = tempDir(t);
    const { logger } = captureLogger();
    const d = deps(logger);
    const bad = new PluginHost(entryFor('bad', script(dir, 'bad', c.body), { timeoutMs: 1500 }), d);
    const good = new PluginHost(entryFor('good', script(dir, 'good', GOOD)), d);
    const started = Date.now();
    await assert.rejects(bad.lookup('x', {}, never), (e: unknown) => {
      assert.ok(e instanceof KeywayError);
      assert.equal(e.code, c.code, e.message);
      assert.match(e.message, c.msg);
      return true;
    });
    assert.ok(Date.now() - started < 1500 + 2000, 'answered within the deadline plus the kill grace');
    assert.deepEqual(await lastingZombies(), []);
    assert.equal((await good.lookup('x', {}, never)).value.expose().toString(), 'ok');
  });
}

test('a plugin flooding stderr with the secret never gets it into logs or errors', async (t) => {
  const dir = tempDir(t);
  const cap = captureLogger();
  const body = `#!/bin/sh
IFS= read -r h
i=0; while [ $i -lt 3000 ]; do echo "leaking ${SECRET} again" >&2; i=$((i+1)); done
printf '{"v":1,"id":"1","ok":true,"size":${SECRET.length}}\\n${SECRET}'
`;
  const host = new PluginHost(entryFor('leaky', script(dir, 'leaky', body)), deps(cap.logger));
  const r = await host.lookup('x', {}, never);
  assert.equal(r.value.expose().toString(), SECRET);
  const logs = cap.text();
  assert.ok(logs.includes('[redacted]'), 'stderr was logged, redacted');
  assert.ok(!logs.includes(SECRET), 'no secret in logs');
  assert.ok(logs.includes('droppedBytes'), 'stderr over the cap was dropped and reported');

  // A store whose plugin echoes the stored value to stderr and then fails: error and logs stay clean.
  const failing = `#!/bin/sh
IFS= read -r h
cat >&2
exit 1
`;
  const host2 = new PluginHost(entryFor('echoer', script(dir, 'echoer', failing)), deps(cap.logger));
  await assert.rejects(host2.store('p', SecretValue.fromString(SECRET), {}, never), (e: unknown) => {
    assert.ok(e instanceof KeywayError && e.code === 'unavailable');
    assert.ok(!e.message.includes(SECRET), e.message);
    assert.match(e.message, /\[redacted\]/);
    return true;
  });
  assert.ok(!cap.text().includes(SECRET));
});

const SERVE = `#!/bin/sh
# A serve plugin in shell: answers until stdin ends; "crash" kills it, "hang" never answers.
while IFS= read -r h; do
  id=$(printf '%s' "$h" | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')
  path=$(printf '%s' "$h" | sed -n 's/.*"path":"\\([^"]*\\)".*/\\1/p')
  case "$path" in
    crash) exit 3 ;;
    hang) sleep 29.7311 ;;
    *) printf '{"v":1,"id":"%s","ok":true,"size":%d}\\n%s' "$id" \${#path} "$path" ;;
  esac
done
`;

test('a serve plugin that crashes fails its in-flight requests and is restarted for the next', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('srv', script(dir, 'srv', SERVE), { lifecycle: 'serve', timeoutMs: 2500 }), deps(logger));
  t.after(() => host.close());
  assert.equal((await host.lookup('one', {}, never)).value.expose().toString(), 'one');
  await assert.rejects(host.lookup('crash', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && /exited with status 3/.test(e.message));
  assert.equal((await host.lookup('two', {}, never)).value.expose().toString(), 'two');
  assert.equal(host.serveClient?.launches, 2);
  const started = Date.now();
  await assert.rejects(host.lookup('hang', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'timeout');
  assert.ok(Date.now() - started < 2500 + 2000, 'the hung request failed at its deadline');
  assert.equal((await host.lookup('three', {}, never)).value.expose().toString(), 'three');
  assert.deepEqual(await lastingZombies(), []);
  assert.deepEqual(await lastingProcesses('sleep 29.7311'), []);
});

test('cancelling a request kills a oneshot plugin promptly', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('slow', script(dir, 'slow', '#!/bin/sh\nread -r h\nexec sleep 31.0517\n'), { timeoutMs: 10_000 }), deps(logger));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(host.lookup('x', {}, ac.signal), (e: unknown) => e instanceof KeywayError && e.code === 'cancelled');
  assert.deepEqual(await lastingProcesses('sleep 31.0517'), []);
  assert.deepEqual(await lastingZombies(), []);
});

test('a serve plugin echoing secrets to stderr around its answers never gets them into logs', async (t) => {
  const dir = tempDir(t);
  const cap = captureLogger();
  const body = `#!/bin/sh
while IFS= read -r h; do
  id=$(printf '%s' "$h" | sed -n 's/.*"id":"\\([^"]*\\)".*/\\1/p')
  echo "before ${SECRET}" >&2
  printf '{"v":1,"id":"%s","ok":true,"size":${SECRET.length}}\\n${SECRET}' "$id"
  echo "after ${SECRET}" >&2
done
`;
  const host = new PluginHost(entryFor('leaky-serve', script(dir, 'leaky', body), { lifecycle: 'serve' }), deps(cap.logger));
  for (let i = 0; i < 5; i++) (await host.lookup('x', {}, never)).value.zero();
  await host.close();
  const logs = cap.text();
  assert.ok(logs.includes('before [redacted]') && logs.includes('after [redacted]'), logs.slice(0, 300));
  assert.ok(!logs.includes(SECRET));
});

test('an OCI plugin whose engine is missing fails cleanly with unavailable', async () => {
  const { logger } = captureLogger();
  const entry = { ...entryFor('x', '/bin/true'), path: undefined, sha256: undefined, ociImage: `x@sha256:${'c'.repeat(64)}` } as const;
  const { path: _p, sha256: _s, ...oci } = entry;
  const host = new PluginHost(oci, deps(logger, { ociEngine: '/nonexistent/podman' }));
  await assert.rejects(host.lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && /could not be started: ENOENT/.test(e.message));
  assert.deepEqual(await lastingZombies(), []);
});

test('a crash-looping serve plugin is restarted with growing backoff, not in a tight loop', async (t) => {
  const dir = tempDir(t);
  const { logger } = captureLogger();
  const host = new PluginHost(entryFor('loop', script(dir, 'loop', '#!/bin/sh\nexit 9\n'), { lifecycle: 'serve' }), deps(logger));
  t.after(() => host.close());
  const started = Date.now();
  for (let i = 0; i < 4; i++) {
    await assert.rejects(host.lookup('x', {}, never), (e: unknown) => e instanceof KeywayError && e.code === 'unavailable' && /exited with status 9/.test(e.message));
  }
  assert.equal(host.serveClient?.launches, 4);
  assert.ok(Date.now() - started >= 100 + 200 + 400, 'waited 100, 200 and 400 ms between restarts');
  assert.deepEqual(await lastingZombies(), []);
});
