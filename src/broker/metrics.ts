// Prometheus metrics of the broker (and of delivery, which sets the live mount-set gauge).
// Label values are provider and frontend names and outcomes — never secret names unless the
// operator opts in (`metrics.secret_names`), and never values.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'keyway_requests_total', help: 'Resolve requests by provider, frontend and outcome', labelNames: ['provider', 'frontend', 'outcome', 'secret'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'keyway_resolve_duration_seconds',
    help: 'Resolve latency, cache hits included',
    labelNames: ['provider', 'cache'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly cache = new Counter({ name: 'keyway_cache_total', help: 'Cache lookups by result (hit, miss, negative, stale, shared)', labelNames: ['provider', 'result'] as const, registers: [this.registry] });
  readonly upstream = new Counter({ name: 'keyway_upstream_calls_total', help: 'Calls to provider backends by outcome', labelNames: ['provider', 'outcome'] as const, registers: [this.registry] });
  readonly breaker = new Gauge({ name: 'keyway_breaker_state', help: 'Circuit breaker state per provider: 0 closed, 1 half-open, 2 open', labelNames: ['provider'] as const, registers: [this.registry] });
  readonly mountSets = new Gauge({ name: 'keyway_live_mount_sets', help: 'Delivery mount sets currently live', registers: [this.registry] });
  readonly secretNames: boolean;

  constructor(secretNames = false) {
    this.secretNames = secretNames;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
