/**
 * Counters and histograms for the request path, registered in a prom-client registry and
 * exposed exactly as prom-client's own (the same text, the same JSON), but observed without
 * prom-client's per-observation work: its label-bound children still validate and hash their
 * label set into a string key on every `inc`/`observe` (and `startTimer` twice), a few
 * microseconds each, three per source call and two per request. Here a label set is looked up
 * once, when its series is made (`series(...)`, kept by the caller), and an observation is a
 * bucket search and three additions.
 */
import type client from 'prom-client';

type Labels = Record<string, string>;

/** One value as prom-client's registry formats it (`sharedLabels` follow `labels` in the text). */
interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
  /** prom-client's buckets carry one (null without exemplars); its JSON shows it. */
  exemplar?: null;
}

interface Exported {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

/** The label set of `values` in the metric's label order, and its key. */
function labelsOf(names: readonly string[], values: readonly string[]): { labels: Labels; key: string } {
  if (values.length !== names.length) throw new Error(`expected ${names.length} label values, got ${values.length}`);
  const labels: Labels = {};
  names.forEach((n, i) => (labels[n] = String(values[i])));
  return { labels, key: values.join('\u0000') };
}

/** prom-client's `get()`: shared labels folded into each value's own. */
const splay = ({ sharedLabels, ...v }: ExportedValue): ExportedValue => ({ ...v, labels: { ...v.labels, ...sharedLabels } });

abstract class Series<S extends { labels: Labels; seen: boolean }> {
  protected readonly all = new Map<string, S>();
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';

  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
    registry: client.Registry,
  ) {
    registry.registerMetric(this as unknown as client.Metric);
  }

  protected abstract make(labels: Labels): S;
  protected abstract exported(s: S): ExportedValue[];

  /** The series of one label set (kept by the caller: looking it up again costs a join); exposed once it has seen a value, as prom-client's. */
  protected seriesOf(values: readonly string[]): S {
    const { labels, key } = labelsOf(this.labelNames, values);
    let s = this.all.get(key);
    if (!s) this.all.set(key, (s = this.make(labels)));
    return s;
  }

  async getForPromString(): Promise<Exported> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: [...this.all.values()].filter((s) => s.seen).flatMap((s) => this.exported(s)),
      aggregator: this.aggregator,
    };
  }

  async get(): Promise<Exported> {
    const out = await this.getForPromString();
    return { ...out, values: out.values.map(splay) };
  }

  reset(): void {
    this.all.clear();
  }
}

export interface CounterChild {
  inc(by?: number): void;
}

interface CounterState {
  labels: Labels;
  seen: boolean;
  value: number;
}

export class CounterSeries extends Series<CounterState> {
  readonly type = 'counter' as const;
  protected make(labels: Labels): CounterState {
    return { labels, seen: false, value: 0 };
  }
  protected exported(s: CounterState): ExportedValue[] {
    return [{ labels: s.labels, value: s.value }];
  }
  series(...values: string[]): CounterChild {
    const s = this.seriesOf(values);
    return {
      inc: (by = 1) => {
        s.seen = true;
        s.value += by;
      },
    };
  }
}

export interface HistogramChild {
  observe(value: number): void;
}

interface HistogramState {
  labels: Labels;
  seen: boolean;
  /** Observations per bucket (not cumulative); the last slot is +Inf's own. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class HistogramSeries extends Series<HistogramState> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[], registry: client.Registry) {
    super(name, help, labelNames, registry);
    this.bounds = [...buckets].sort((a, b) => a - b);
  }

  protected make(labels: Labels): HistogramState {
    return { labels, seen: false, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  protected exported(s: HistogramState): ExportedValue[] {
    const out: ExportedValue[] = [];
    let acc = 0;
    this.bounds.forEach((le, i) => {
      acc += s.counts[i];
      out.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: `${this.name}_bucket`, exemplar: null });
    });
    out.push(
      { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket`, exemplar: null },
      { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
      { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` },
    );
    return out;
  }

  series(...values: string[]): HistogramChild {
    const s = this.seriesOf(values);
    const bounds = this.bounds;
    return {
      observe: (value: number) => {
        if (!Number.isFinite(value)) return; // prom-client throws; a metric must never fail a request
        let i = 0;
        while (i < bounds.length && value > bounds[i]) i++;
        s.seen = true;
        s.counts[i]++;
        s.sum += value;
        s.count++;
      },
    };
  }
}
