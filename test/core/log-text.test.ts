import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/logger.js';
import { formatRecord } from '../../src/core/log-text.js';

test('a JSON log record becomes one text line with time, level, message and fields', () => {
  const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5, 678), pid: 7, msg: 'frontend close failed', frontend: 'docker', err: 'socket gone away' });
  assert.equal(formatRecord(line), '03:04:05.678 WARN  frontend close failed frontend=docker err="socket gone away"\n');
});

test('text lines keep the logger redaction, and a line that is not a record passes through unchanged', () => {
  let out = '';
  const sink = new Writable({ write: (c: Buffer, _e, done) => ((out += formatRecord(c.toString().trim())), done()) });
  createLogger('info', sink).info({ token: 'CANARY-tok', name: 'db' }, 'resolved');
  assert.match(out, / INFO  resolved token="\[redacted\]" name=db\n$/);
  assert.ok(!out.includes('CANARY'));
  assert.equal(formatRecord('not json {'), 'not json {\n');
});
