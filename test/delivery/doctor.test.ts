import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReport, kernelSupportsNoswap } from '../../src/delivery/doctor.js';

test('kernelSupportsNoswap is true from 6.4 on', () => {
  assert.equal(kernelSupportsNoswap('6.3.9-arch1'), false);
  assert.equal(kernelSupportsNoswap('6.4.0'), true);
  assert.equal(kernelSupportsNoswap('6.18.44-fc'), true);
  assert.equal(kernelSupportsNoswap('7.0.1'), true);
  assert.equal(kernelSupportsNoswap('5.15.0-91-generic'), false);
  assert.equal(kernelSupportsNoswap('garbage'), false);
});

test('formatReport prints one line per check and the verdict last', () => {
  const text = formatReport({ checks: [{ name: 'mount root', status: 'weak', detail: 'tmpfs without noswap' }, { name: 'bwrap', status: 'info', detail: 'not installed' }], verdict: 'weak' });
  assert.equal(text, 'weak     mount root: tmpfs without noswap\ninfo     bwrap: not installed\nverdict: weak\n');
});
