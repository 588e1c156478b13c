// Counters, gauges and histograms in the Prometheus text format (0.0.4): the few shapes the broker
// needs, without a metrics library's resident cost in the daemon. Series are keyed by their label
// values in declaration order; output lists them in first-use order.

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels<L extends string> = Partial<Record<L, string | number>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

abstract class Metric<L extends string> {
  protected readonly series = new Map<string, { labels: string; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly L[],
    private readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}

  protected labelText(labels: Labels<L>, extra = ''): string {
    const parts = this.labelNames.filter((n) => labels[n] !== undefined).map((n) => `${n}="${escapeLabel(String(labels[n]))}"`);
    if (extra) parts.unshift(extra);
    return parts.length ? `{${parts.join(',')}}` : '';
  }

  protected key(labels: Labels<L>): string {
    return this.labelNames.map((n) => String(labels[n] ?? '')).join('\0');
  }

  protected head(): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${this.type}\n`;
  }

  /** One line per series; an unlabelled metric reports 0 before first use, as Prometheus clients do. */
  protected sampleText(): string {
    const lines = [...this.series.values()].map((s) => `${this.name}${s.labels} ${formatNumber(s.value)}\n`);
    if (lines.length === 0 && this.labelNames.length === 0) lines.push(`${this.name} 0\n`);
    return this.head() + lines.join('');
  }

  abstract text(): string;
}

export class Counter<L extends string = never> extends Metric<L> {
  constructor(o: { name: string; help: string; labelNames?: readonly L[] }) {
    super(o.name, o.help, o.labelNames ?? [], 'counter');
  }

  inc(labels: Labels<L> = {}, by = 1): void {
    const k = this.key(labels);
    const s = this.series.get(k);
    if (s) s.value += by;
    else this.series.set(k, { labels: this.labelText(labels), value: by });
  }

  text(): string {
    return this.sampleText();
  }
}

export class Gauge<L extends string = never> extends Metric<L> {
  constructor(o: { name: string; help: string; labelNames?: readonly L[] }) {
    super(o.name, o.help, o.labelNames ?? [], 'gauge');
  }

  set(labelsOrValue: Labels<L> | number, value?: number): void {
    const labels = typeof labelsOrValue === 'number' ? {} : labelsOrValue;
    const v = typeof labelsOrValue === 'number' ? labelsOrValue : (value ?? 0);
    const k = this.key(labels);
    const s = this.series.get(k);
    if (s) s.value = v;
    else this.series.set(k, { labels: this.labelText(labels), value: v });
  }

  text(): string {
    return this.sampleText();
  }
}

export class Histogram<L extends string = never> extends Metric<L> {
  readonly #buckets: readonly number[];
  readonly #data = new Map<string, { labels: Labels<L>; counts: number[]; sum: number; count: number }>();

  constructor(o: { name: string; help: string; labelNames?: readonly L[]; buckets: readonly number[] }) {
    super(o.name, o.help, o.labelNames ?? [], 'histogram');
    this.#buckets = [...o.buckets].sort((a, b) => a - b);
  }

  observe(labels: Labels<L>, value: number): void {
    const k = this.key(labels);
    let d = this.#data.get(k);
    if (!d) this.#data.set(k, (d = { labels: { ...labels }, counts: this.#buckets.map(() => 0), sum: 0, count: 0 }));
    const i = this.#buckets.findIndex((b) => value <= b);
    if (i >= 0) d.counts[i] = (d.counts[i] ?? 0) + 1;
    d.sum += value;
    d.count++;
  }

  text(): string {
    let out = this.head();
    for (const d of this.#data.values()) {
      let cumulative = 0;
      this.#buckets.forEach((b, i) => {
        cumulative += d.counts[i] ?? 0;
        out += `${this.name}_bucket${this.labelText(d.labels, `le="${formatNumber(b)}"`)} ${cumulative}\n`;
      });
      out += `${this.name}_bucket${this.labelText(d.labels, 'le="+Inf"')} ${d.count}\n`;
      out += `${this.name}_sum${this.labelText(d.labels)} ${formatNumber(d.sum)}\n`;
      out += `${this.name}_count${this.labelText(d.labels)} ${d.count}\n`;
    }
    return out;
  }
}
