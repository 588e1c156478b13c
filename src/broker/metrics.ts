// Prometheus metrics of the broker (and of delivery, which sets the live mount-set gauge).
// Label values are provider and frontend names and outcomes — never secret names unless the
// operator opts in (`metrics.secret_names`), and never values.
import { Counter, Gauge, Histogram, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';

export class BrokerMetrics {
  readonly requests = new Counter({ name: 'keyway_requests_total', help: 'Resolve requests by provider, frontend and outcome', labelNames: ['provider', 'frontend', 'outcome', 'secret'] as const });
  readonly latency = new Histogram({
    name: 'keyway_resolve_duration_seconds',
    help: 'Resolve latency, cache hits included',
    labelNames: ['provider', 'cache'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  });
  readonly cache = new Counter({ name: 'keyway_cache_total', help: 'Cache lookups by result (hit, miss, negative, stale, shared)', labelNames: ['provider', 'result'] as const });
  readonly upstream = new Counter({ name: 'keyway_upstream_calls_total', help: 'Calls to provider backends by outcome', labelNames: ['provider', 'outcome'] as const });
  readonly breaker = new Gauge({ name: 'keyway_breaker_state', help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open', labelNames: ['provider'] as const });
  readonly mountSets = new Gauge({ name: 'keyway_live_mount_sets', help: 'Delivery mount sets currently live' });
  readonly secretNames: boolean;

  constructor(secretNames = false) {
    this.secretNames = secretNames;
  }

  text(): Promise<string> {
    const all = [this.requests, this.latency, this.cache, this.upstream, this.breaker, this.mountSets];
    return Promise.resolve(all.map((m) => m.text()).join('\n'));
  }

  get contentType(): string {
    return PROMETHEUS_CONTENT_TYPE;
  }
}
