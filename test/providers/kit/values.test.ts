import { test } from 'node:test';
import assert from 'node:assert/strict';
import { oneLine } from '../../../src/core/one-line.js';
import { backendMessage } from '../../../src/providers/kit/values.js';
import { vaultText } from '../../../src/providers/vault/errors.js';

const HOSTILE = 'denied\n{"level":50,"msg":"forged"}\r\n\u001b[2J\u001b]0;title\u0007 end\u009b';

test('a backend\'s text in an error message is one line with no control characters', () => {
  for (const out of [oneLine(HOSTILE), backendMessage(HOSTILE), vaultText({ status: 403, json: { errors: [HOSTILE] } }, 200)]) {
    assert.doesNotMatch(out, /[\u0000-\u001f\u007f-\u009f]/);
    assert.match(out, /^denied \{"level":50,"msg":"forged"\} \[2J\]0;title end$/);
  }
});

test('backendMessage cuts a long text at 200 characters and marks the cut', () => {
  assert.equal(backendMessage('x'.repeat(250)), `${'x'.repeat(200)}...`);
  assert.equal(backendMessage(42), '');
});
