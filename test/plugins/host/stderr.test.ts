// The stderr sink's timing, driven by mocked timers so every case is deterministic: text waits one
// window for a payload it may echo, is held while requests are in flight (but not forever), and
// protected payload copies are zeroed when no held text can need them any more.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { StderrSink } from '../../../src/plugins/host/stderr.js';
import { captureLogger } from '../helpers.js';

const SECRET = 'S3CRET-value-42';

function clock(t: { after(fn: () => void): void }): void {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
}

test('text echoing a payload that passes up to one window later is redacted', (t) => {
  clock(t);
  const log = captureLogger();
  const sink = new StderrSink(log.logger, 'p', 1000, 5000);
  // An earlier payload arms the flush timer, so it fires while the text below is young.
  sink.protect(Buffer.from('an-earlier-payload'));
  mock.timers.tick(600);
  sink.write(Buffer.from(`debug: got ${SECRET}\n`));
  mock.timers.tick(400);
  assert.equal(log.text(), '', 'nothing is logged before its window ends');
  mock.timers.tick(500);
  sink.protect(Buffer.from(SECRET)); // the response carrying it arrives 900 ms after the text
  mock.timers.tick(500);
  assert.match(log.text(), /debug: got \[redacted\]/);
  assert.doesNotMatch(log.text(), new RegExp(SECRET));
  sink.close();
});

test('text is held while a request is in flight, logged once it ends, and logged after the hold limit under constant load', (t) => {
  clock(t);
  const log = captureLogger();
  const sink = new StderrSink(log.logger, 'p', 1000, 5000);
  sink.begin();
  sink.write(Buffer.from('first line\n'));
  mock.timers.tick(2000);
  assert.equal(log.text(), '', 'held while the request is in flight');
  sink.end();
  mock.timers.tick(1000);
  assert.match(log.text(), /first line/);

  // Requests overlap without a gap: text still comes out once the hold limit has passed.
  sink.begin();
  sink.write(Buffer.from('under load\n'));
  for (let i = 0; i < 4; i++) {
    sink.begin();
    sink.end();
    mock.timers.tick(1000);
  }
  assert.doesNotMatch(log.text(), /under load/, 'held for up to the hold limit');
  mock.timers.tick(1000);
  assert.match(log.text(), /under load/);
  sink.end();
  sink.close();
});

test('an expired protected copy is zeroed, but only once no held text can still need it', (t) => {
  clock(t);
  const log = captureLogger();
  const alloc = mock.method(Buffer, 'allocUnsafeSlow');
  t.after(() => alloc.mock.restore());
  const sink = new StderrSink(log.logger, 'p', 1000, 5000);
  sink.protect(Buffer.from(SECRET));
  const copy = alloc.mock.calls[0]?.result as Buffer;
  assert.equal(copy.toString(), SECRET);
  mock.timers.tick(1000);
  assert.equal(sink.protectedCount, 0);
  assert.ok(copy.every((b) => b === 0), 'the copy was zeroed when its window ended');

  // A request in flight holds text that echoes the payload: the copy outlives its window until then.
  sink.begin();
  sink.protect(Buffer.from(SECRET));
  const second = alloc.mock.calls[1]?.result as Buffer;
  mock.timers.tick(500);
  sink.write(Buffer.from(`late echo ${SECRET}\n`));
  mock.timers.tick(2000);
  assert.equal(sink.protectedCount, 1, 'kept: held text arrived inside its window');
  assert.equal(second.toString(), SECRET);
  mock.timers.tick(3000);
  assert.match(log.text(), /late echo \[redacted\]/);
  assert.doesNotMatch(log.text(), new RegExp(SECRET));
  mock.timers.tick(1000);
  assert.equal(sink.protectedCount, 0);
  assert.ok(second.every((b) => b === 0));
  sink.end();
  sink.close();
});
