import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram } from '../../src/broker/prometheus.js';

test('a labelled counter prints one sample per label set with HELP and TYPE lines', () => {
  const c = new Counter({ name: 'x_total', help: 'Things', labelNames: ['a', 'b'] as const });
  c.inc({ a: '1', b: 'two' });
  c.inc({ a: '1', b: 'two' }, 2);
  c.inc({ a: 'q"\\\n', b: '' });
  assert.equal(c.text(), '# HELP x_total Things\n# TYPE x_total counter\nx_total{a="1",b="two"} 3\nx_total{a="q\\"\\\\\\n",b=""} 1\n');
});

test('an unlabelled gauge reports 0 until set, then its last value', () => {
  const g = new Gauge({ name: 'g', help: 'G' });
  assert.equal(g.text(), '# HELP g G\n# TYPE g gauge\ng 0\n');
  g.set(5);
  g.set(3);
  assert.equal(g.text(), '# HELP g G\n# TYPE g gauge\ng 3\n');
});

test('a histogram prints cumulative buckets, +Inf, sum and count', () => {
  const h = new Histogram({ name: 'h', help: 'H', labelNames: ['p'] as const, buckets: [1, 0.1] });
  h.observe({ p: 'a' }, 0.05);
  h.observe({ p: 'a' }, 0.5);
  h.observe({ p: 'a' }, 7);
  assert.equal(
    h.text(),
    '# HELP h H\n# TYPE h histogram\nh_bucket{le="0.1",p="a"} 1\nh_bucket{le="1",p="a"} 2\nh_bucket{le="+Inf",p="a"} 3\nh_sum{p="a"} 7.55\nh_count{p="a"} 3\n',
  );
});
