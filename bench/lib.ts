// Side-by-side benchmarking: each scenario runs keyway and a baseline alternately in one process
// run (so machine noise hits both), after warm-up, and reports medians, p99 and the median ratio.
// Targets are judged on ratios, never on absolute times.
import { performance } from 'node:perf_hooks';

export interface Pair {
  readonly name: string;
  readonly keywayLabel: string;
  readonly baselineLabel: string;
  readonly warmup: number;
  readonly reps: number;
  /** Optional target for the median ratio keyway/baseline (reported, not asserted). */
  readonly target?: number;
  setup?(): Promise<void>;
  keyway(): Promise<void>;
  baseline(): Promise<void>;
  teardown?(): Promise<void>;
}

export interface Row {
  readonly scenario: string;
  readonly keyway: string;
  readonly baseline: string;
  readonly keywayMedianMs: number;
  readonly baselineMedianMs: number;
  readonly keywayP99Ms: number;
  readonly ratio: number;
  readonly target?: number;
  readonly reps: number;
  readonly note?: string;
}

export interface Scenario {
  readonly name: string;
  /** Returns one or more rows; may throw `Skip` when the host lacks what it needs. */
  run(): Promise<Row[]>;
}

export class Skip extends Error {}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export async function timeOnce(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function runPair(p: Pair): Promise<Row> {
  await p.setup?.();
  try {
    for (let i = 0; i < p.warmup; i++) {
      await p.keyway();
      await p.baseline();
    }
    const k: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < p.reps; i++) {
      // Alternate which side goes first so neither always runs on a warmer machine.
      if (i % 2 === 0) {
        k.push(await timeOnce(() => p.keyway()));
        b.push(await timeOnce(() => p.baseline()));
      } else {
        b.push(await timeOnce(() => p.baseline()));
        k.push(await timeOnce(() => p.keyway()));
      }
    }
    k.sort((x, y) => x - y);
    b.sort((x, y) => x - y);
    const km = quantile(k, 0.5);
    const bm = quantile(b, 0.5);
    return {
      scenario: p.name,
      keyway: p.keywayLabel,
      baseline: p.baselineLabel,
      keywayMedianMs: km,
      baselineMedianMs: bm,
      keywayP99Ms: quantile(k, 0.99),
      ratio: km / bm,
      reps: p.reps,
      ...(p.target !== undefined ? { target: p.target } : {}),
    };
  } finally {
    await p.teardown?.();
  }
}

function fmt(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 100 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`;
}

export function table(rows: readonly Row[]): string {
  const head = ['scenario', 'keyway', 'baseline', 'keyway median', 'baseline median', 'keyway p99', 'ratio', 'target'];
  const body = rows.map((r) => [r.scenario, r.keyway, r.baseline, fmt(r.keywayMedianMs), fmt(r.baselineMedianMs), fmt(r.keywayP99Ms), Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : '-', r.target !== undefined ? `≤ ${r.target.toFixed(2)}${r.ratio <= r.target ? ' ✓' : ' ✗'}` : (r.note ?? '')]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => '| ' + row.map((c, i) => c.padEnd(w[i] ?? 0)).join(' | ') + ' |';
  return [line(head), '|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|', ...body.map(line)].join('\n');
}
