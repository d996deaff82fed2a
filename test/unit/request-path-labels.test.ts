/**
 * The request path's per-label bookkeeping (src/observability/metrics.ts keeps each series by its
 * label values, one map per label; src/server.ts names a request's span by its target's first
 * segment without splitting the target): what a scrape shows and which requests are traced are
 * those of the joined keys and the split they replaced.
 */
import { createMetrics } from '../../src/observability/metrics';
import { firstSegment } from '../../src/server';
import type { SourceName } from '../../src/vocabulary';

const call = (source: string, operation: string, batchSize = 1) => ({ source: source as SourceName, operation, batchSize });

describe('metrics kept by label values', () => {
  it('count each (source, operation), (operation, outcome, role) and (route, status) apart, however often observed', async () => {
    const m = createMetrics();
    for (let i = 0; i < 3; i++) m.sourceObserver.answered!(call('crm', 'contactsByIds', 2), 0.004);
    m.sourceObserver.answered!(call('crm', 'contactsByPhones'), 0.03);
    m.sourceObserver.answered!(call('orders', 'contactsByIds'), 0.03);
    m.observeRequest('Customer360', 'ok', 'admin', 0.02);
    m.observeRequest('Customer360', 'ok', 'admin', 0.02);
    m.observeRequest('Customer360', 'ok', 'marketing', 0.02);
    m.observeRequest('Customer360', 'partial', 'admin', 0.02);
    m.observeHttp('graphql', 200);
    m.observeHttp('graphql', 200);
    m.observeHttp('graphql', 401);
    m.observeHttp('healthz', 200);
    m.observeRefusal('graphql', 'unauthenticated');
    m.observeRefusal('graphql', 'unauthenticated');
    const text = await m.registry.metrics();
    const line = (re: RegExp) => text.split('\n').filter((l) => re.test(l));
    expect(line(/^c360_source_requests_total\{/)).toEqual([
      'c360_source_requests_total{source="crm",operation="contactsByIds",outcome="ok"} 3',
      'c360_source_requests_total{source="crm",operation="contactsByPhones",outcome="ok"} 1',
      'c360_source_requests_total{source="orders",operation="contactsByIds",outcome="ok"} 1',
    ]);
    expect(line(/^c360_source_batch_size_sum\{/)).toEqual([
      'c360_source_batch_size_sum{source="crm",operation="contactsByIds"} 6',
      'c360_source_batch_size_sum{source="crm",operation="contactsByPhones"} 1',
      'c360_source_batch_size_sum{source="orders",operation="contactsByIds"} 1',
    ]);
    expect(line(/^c360_graphql_requests_total\{/)).toEqual([
      'c360_graphql_requests_total{operation="Customer360",outcome="ok"} 3',
      'c360_graphql_requests_total{operation="Customer360",outcome="partial"} 1',
    ]);
    expect(line(/^c360_graphql_request_duration_seconds_count\{/)).toEqual([
      'c360_graphql_request_duration_seconds_count{operation="Customer360",outcome="ok",role="admin"} 2',
      'c360_graphql_request_duration_seconds_count{operation="Customer360",outcome="ok",role="marketing"} 1',
      'c360_graphql_request_duration_seconds_count{operation="Customer360",outcome="partial",role="admin"} 1',
    ]);
    expect(line(/^c360_http_requests_total\{/)).toEqual([
      'c360_http_requests_total{route="graphql",status="200"} 2',
      'c360_http_requests_total{route="graphql",status="401"} 1',
      'c360_http_requests_total{route="healthz",status="200"} 1',
    ]);
    expect(line(/^c360_http_refusals_total\{/)).toEqual(['c360_http_refusals_total{route="graphql",reason="unauthenticated"} 2']);
  });
});

describe("a request target's first segment (which route a span is named by, and whether a probe is traced)", () => {
  it('is what splitting the target at every / and ? read second, for every shape of target node hands over', () => {
    const targets = [
      '/graphql',
      '/graphql?x=1',
      '/graphql/stream',
      '/',
      '',
      '?x',
      '?healthz/y',
      'abc/def',
      'http://h/graphql',
      '//x',
      '/healthz',
      '/ide/index.html',
      '/a?b/c',
      'no-separator',
      '/x/',
      '/webhooks/crm?y',
      '*',
    ];
    for (const target of targets) expect([target, firstSegment(target)]).toEqual([target, target.split(/[/?]/)[1] ?? '']);
  });
});
