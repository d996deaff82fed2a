/**
 * Prometheus metrics, one registry per gateway instance (tests run several side by side): the
 * process's defaults from prom-client, the request path's own in series.ts.
 * Source metrics are fed by the connector boundary (`CallObserver`): one increment per call
 * to a system, never per key, and one per retried attempt of a call.
 */
import client from 'prom-client';
import type { CallObserver } from '../sources/observe';
import { isSourceError, SourceRefusal } from '../errors';
import { CounterSeries, HistogramSeries, type CounterChild, type HistogramChild } from './series';

export interface Metrics {
  registry: client.Registry;
  sourceObserver: CallObserver;
  /** One GraphQL operation answered: counts it and observes its duration. */
  observeRequest(operation: string, outcome: string, role: string, seconds: number): void;
  /** One HTTP request over (answered, or its client gone): its route label (`routeLabel`) and status, 0 when none was sent. */
  observeHttp(route: HttpRoute, status: number): void;
  /** One request refused before any GraphQL work, by route and reason (src/http/refusals.ts). */
  observeRefusal(route: HttpRoute, reason: string): void;
  /** Malformed records (each a SourceRowError) one GraphQL answer carried from `source`: `n` of them, each counted once however many fields carried its error. */
  observeMalformed(source: string, n: number): void;
  /** One operation's lookups by a value (src/access/lookup-budget.ts): how many, by role, and whether its principal's budget admitted them. */
  observeLookups(role: string, n: number, admitted: boolean): void;
}

/** The routes `c360_http_requests_total` tells apart; any other path is `other` (a client's path is never a label). */
export type HttpRoute = 'graphql' | 'stream' | 'export' | 'webhooks' | 'ide' | 'healthz' | 'readyz' | 'metrics' | 'other';

/** The route label of a request target: from a fixed set, whatever the path. */
export function routeLabel(target: string | undefined): HttpRoute {
  const path = (target ?? '/').split('?')[0];
  if (path === '/graphql') return 'graphql';
  if (path === '/graphql/stream') return 'stream';
  if (path === '/healthz' || path === '/readyz' || path === '/metrics') return path.slice(1) as HttpRoute;
  if (path.startsWith('/export/')) return 'export';
  if (path.startsWith('/webhooks/')) return 'webhooks';
  if (path === '/ide' || path.startsWith('/ide/')) return 'ide';
  return 'other';
}

/** How a failed source call went, as metrics and spans label it: the error's code, or how the transport refused it. */
export function sourceCallOutcome(e: unknown): string {
  if (e instanceof SourceRefusal) return (e.extensions as { circuit?: unknown }).circuit === 'open' ? 'circuit_open' : 'paused';
  return isSourceError(e) ? e.code.toLowerCase() : 'error';
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  // Under their standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes), as every
  // Prometheus client exports them and stock dashboards read them: a prefix made them c360_process_process_*.
  client.collectDefaultMetrics({ register: registry });

  // The request path's metrics observe without prom-client's per-observation label hashing (series.ts).
  const sourceRequests = new CounterSeries(
    'c360_source_requests_total',
    'Calls to a source system (one per batch call, not per key), by outcome: ok, source_timeout, source_unavailable, source_bad_response, error; circuit_open and paused count calls refused without reaching the system.',
    ['source', 'operation', 'outcome'],
    registry,
  );
  const sourceDuration = new HistogramSeries(
    'c360_source_request_duration_seconds',
    'Duration of calls made to a source system (refused ones are not observed).',
    ['source', 'operation'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registry,
  );
  const batchSize = new HistogramSeries(
    'c360_source_batch_size',
    'Keys carried by one call made to a source system (refused ones are not observed).',
    ['source', 'operation'],
    [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registry,
  );
  const graphqlRequests = new CounterSeries(
    'c360_graphql_requests_total',
    'GraphQL operations served, by operation name and outcome (ok, partial, error; aborted: the client left before the answer).',
    ['operation', 'outcome'],
    registry,
  );
  const graphqlDuration = new HistogramSeries(
    'c360_graphql_request_duration_seconds',
    'Duration of GraphQL operations, from parsing to the response, by operation name, outcome (ok, partial, error, aborted) and role.',
    ['operation', 'outcome', 'role'],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registry,
  );

  const sourceRetries = new CounterSeries(
    'c360_source_retries_total',
    'Attempts of a source call made again after a transient failure, by why (reason: connection_refused, connection_reset, unreachable, dropped_mid_answer, http_502, http_503 without Retry-After, http_504): a call counts once in c360_source_requests_total however many attempts it took.',
    ['source', 'reason'],
    registry,
  );

  // Why: a system that counts our calls against a daily quota refuses every call once
  // it is spent; its own report of the usage is the only warning an operator gets beforehand.
  const sourceQuota = new client.Gauge({
    name: 'c360_source_quota',
    help: 'The quota a source counts our calls against, as it last reported it (API requests used of a daily limit), by source and bound (used, limit).',
    labelNames: ['source', 'bound'],
    registers: [registry],
  });

  // The series of one (source, operation), made once.
  const bound: ByTwo<{ batch: HistogramChild; duration: HistogramChild; ok: CounterChild }> = new Map();
  const boundTo = (source: string, operation: string) => {
    let b = getTwo(bound, source, operation);
    if (!b) {
      b = { batch: batchSize.series(source, operation), duration: sourceDuration.series(source, operation), ok: sourceRequests.series(source, operation, 'ok') };
      setTwo(bound, source, operation, b);
    }
    return b;
  };
  const countRetry = boundIncrement(sourceRetries);
  // Why: a call whose system answered counts ok above even when some of its records could not be
  // read (a CRM writing a date that is no date): each such record answers null with
  // SOURCE_BAD_RESPONSE, and without this series an operator would see only `partial` outcomes, no source.
  const malformedRecords = new CounterSeries(
    'c360_source_malformed_records_total',
    'Records a source answered that could not be read (each answered null with SOURCE_BAD_RESPONSE, its call counted ok in c360_source_requests_total), by source, counted once in each GraphQL answer that carried one.',
    ['source'],
    registry,
  );
  const malformedBound = new Map<string, CounterChild>();
  const observeMalformed = (source: string, n: number) => {
    let c = malformedBound.get(source);
    if (!c) malformedBound.set(source, (c = malformedRecords.series(source)));
    c.inc(n);
  };

  // A call the transport refused (circuit open, Retry-After pause) is counted by its outcome but
  // observes no duration or batch: no request went out, and its ~0 s would pass for a fast source.
  const sourceObserver: CallObserver = {
    answered(c, seconds) {
      const b = boundTo(c.source, c.operation);
      b.ok.inc();
      b.batch.observe(c.batchSize);
      b.duration.observe(seconds);
    },
    failed(c, seconds, e) {
      sourceRequests.series(c.source, c.operation, sourceCallOutcome(e)).inc();
      if (e instanceof SourceRefusal) return;
      const b = boundTo(c.source, c.operation);
      b.batch.observe(c.batchSize);
      b.duration.observe(seconds);
    },
    retried(source, reason) {
      countRetry(source, reason);
    },
    quota(source, used, limit) {
      sourceQuota.set({ source, bound: 'used' }, used);
      sourceQuota.set({ source, bound: 'limit' }, limit);
    },
  };
  // The same for each (operation, outcome, role): its label sets are bounded (operation names are capped, src/graphql.ts).
  const requestBound = new Map<string, ByTwo<{ count: CounterChild; duration: HistogramChild }>>();
  const observeRequest = (operation: string, outcome: string, role: string, seconds: number) => {
    let byRole = requestBound.get(role);
    if (!byRole) requestBound.set(role, (byRole = new Map()));
    let b = getTwo(byRole, operation, outcome);
    if (!b) {
      b = { count: graphqlRequests.series(operation, outcome), duration: graphqlDuration.series(operation, outcome, role) };
      setTwo(byRole, operation, outcome, b);
    }
    b.count.inc();
    b.duration.observe(seconds);
  };
  // Every request, also those refused before any GraphQL work (401, 413, 415, 429), exports, change-feed
  // streams and webhooks: the operations counter above sees only what reached Apollo.
  const httpRequests = new CounterSeries(
    'c360_http_requests_total',
    'HTTP requests over, by route (graphql, stream, export, webhooks, ide, healthz, readyz, metrics, other) and status code (0: the client left before any answer).',
    ['route', 'status'],
    registry,
  );
  const countHttp = boundIncrement(httpRequests);
  const observeHttp = (route: HttpRoute, status: number) => countHttp(route, String(status));
  // Why: the same refusals as c360_http_requests_total's 4xx, told apart (a guesser's 401s from a client's 415s).
  const refusals = new CounterSeries(
    'c360_http_refusals_total',
    'Requests refused before any GraphQL work, by route and reason: unauthenticated, failed_logins (an address over auth.failedLogins), rate_limited, forbidden, payload_too_large, bad_json, unsupported_media_type, bad_request, method_not_allowed, not_found.',
    ['route', 'reason'],
    registry,
  );
  const observeRefusal: (route: HttpRoute, reason: string) => void = boundIncrement(refusals);
  // Why: each lookup answers whether someone holds a phone or an email; refused ones are a key guessing past its budget.
  const lookups = new CounterSeries(
    'c360_lookups_total',
    "Lookups by a value (customerByIdentifier, customersByIdentifier, customerBySourceRecord; each alias one), by role and outcome: admitted, or refused (over the principal's lookupsPerMinute).",
    ['role', 'outcome'],
    registry,
  );
  const observeLookups = (role: string, n: number, admitted: boolean) => lookups.series(role, admitted ? 'admitted' : 'refused').inc(n);
  return { registry, sourceObserver, observeRequest, observeHttp, observeRefusal, observeLookups, observeMalformed };
}

/**
 * Adds one to `counter`'s series of two label values, each series' child made once and kept
 * (label sets here are bounded), so a request's count allocates nothing once its labels were seen.
 */
function boundIncrement(counter: CounterSeries): (first: string, second: string) => void {
  const bound: ByTwo<CounterChild> = new Map();
  return (first, second) => {
    let c = getTwo(bound, first, second);
    if (!c) setTwo(bound, first, second, (c = counter.series(first, second)));
    c.inc();
  };
}

/**
 * A value per pair of label values, one Map per label: a lookup hashes each value (a string the
 * caller keeps, whose hash V8 keeps with it), where one key joined from the values was a new
 * string, flattened and hashed at every observation, several a request.
 */
type ByTwo<V> = Map<string, Map<string, V>>;
const getTwo = <V>(m: ByTwo<V>, a: string, b: string): V | undefined => m.get(a)?.get(b);
function setTwo<V>(m: ByTwo<V>, a: string, b: string, value: V): void {
  let inner = m.get(a);
  if (!inner) m.set(a, (inner = new Map()));
  inner.set(b, value);
}
