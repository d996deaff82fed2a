/**
 * The request path's counters and histograms (src/observability/series.ts) must be what a
 * Prometheus scrape or a JSON reader saw from prom-client's own metrics: the same observations
 * give the same text and the same JSON.
 */
import client from 'prom-client';
import { CounterSeries, HistogramSeries } from '../../src/observability/series';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Values on, between, below and above the bucket bounds. */
const OBSERVED = [0, 0.005, 0.0051, 0.2, 0.25, 1, 1.5, 30, 0.01, 0.01];

function both() {
  const theirs = new client.Registry();
  const ours = new client.Registry();
  const hist = new client.Histogram({ name: 'x_duration_seconds', help: 'How long.', labelNames: ['source', 'operation'] as const, buckets: BUCKETS, registers: [theirs] });
  const count = new client.Counter({ name: 'x_requests_total', help: 'How many.', labelNames: ['source', 'outcome'] as const, registers: [theirs] });
  const ourHist = new HistogramSeries('x_duration_seconds', 'How long.', ['source', 'operation'], BUCKETS, ours);
  const ourCount = new CounterSeries('x_requests_total', 'How many.', ['source', 'outcome'], ours);
  return { theirs, ours, hist, count, ourHist, ourCount };
}

describe('request-path metric series', () => {
  it('expose the same text and JSON as prom-client for the same observations', async () => {
    const m = both();
    for (const [source, operation] of [
      ['crm', 'contactsByIds'],
      ['orders', 'ordersByAccounts'],
    ]) {
      const child = m.ourHist.series(source, operation);
      for (const v of OBSERVED) {
        m.hist.labels(source, operation).observe(v);
        child.observe(v);
      }
    }
    m.count.labels({ source: 'crm', outcome: 'ok' }).inc();
    m.count.labels({ source: 'crm', outcome: 'ok' }).inc(2);
    m.count.labels({ source: 'orders', outcome: 'timeout' }).inc();
    const ok = m.ourCount.series('crm', 'ok');
    ok.inc();
    ok.inc(2);
    m.ourCount.series('orders', 'timeout').inc();

    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
    expect(await m.ours.getMetricsAsJSON()).toEqual(await m.theirs.getMetricsAsJSON());
    expect(await m.ours.metrics()).toMatch(/^x_duration_seconds_bucket\{le="0.005",source="crm",operation="contactsByIds"\} 2$/m);
    expect(await m.ours.metrics()).toMatch(/^x_requests_total\{source="crm",outcome="ok"\} 3$/m);
  });

  it('expose nothing for a label set never observed, and forget everything on reset', async () => {
    const m = both();
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
    m.ourHist.series('crm', 'contactsByIds').observe(1);
    m.ours.resetMetrics();
    expect(await m.ours.metrics()).toBe(await m.theirs.metrics());
  });

  it('never throws on a value prom-client refuses, and leaves it out', async () => {
    const m = both();
    const child = m.ourHist.series('crm', 'contactsByIds');
    expect(() => child.observe(Number.NaN)).not.toThrow();
    child.observe(Number.POSITIVE_INFINITY);
    expect(await m.ours.metrics()).not.toMatch(/_count\{/);
  });

  it('refuse a label set of the wrong size when it is made', () => {
    const m = both();
    expect(() => m.ourHist.series('crm')).toThrow(/expected 2 label values/);
  });
});
