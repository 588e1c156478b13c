import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT_FAILED, reportFailure } from '../../src/cli/exit.js';
import { KeywayError } from '../../src/core/errors.js';

test('with debug logging, an internal failure shows where its cause was thrown but never the cause\'s message', () => {
  // A library's parse error quotes its input, which may be secret.
  const cause = new SyntaxError('Unexpected token in JSON at position 3: "CANARY-7"');
  const err = new KeywayError('internal', 'the plugin answer could not be read', { cause });
  for (const argv of [['--log-level', 'debug', 'get', 'x'], ['--log-level=trace', 'get', 'x']]) {
    let out = '';
    assert.equal(reportFailure(err, argv, (s) => (out += s)), EXIT_FAILED);
    const [line, type, ...frames] = out.trimEnd().split('\n');
    assert.equal(line, 'keyway: internal: the plugin answer could not be read');
    assert.equal(type, 'SyntaxError');
    assert.ok(frames.length > 0 && frames.every((f) => /^\s+at /.test(f)), out);
    assert.ok(!out.includes('CANARY'), out);
  }
  let quiet = '';
  reportFailure(err, ['get', 'x'], (s) => (quiet += s));
  assert.equal(quiet, 'keyway: internal: the plugin answer could not be read\n');
});
