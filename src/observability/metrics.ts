/**
 * Prometheus metrics, one registry per gateway instance (tests run several side by side).
 * Source metrics are fed by the connector boundary (`SourceObserver`): one increment per call
 * to a system, never per key.
 */
import client from 'prom-client';
import type { SourceObserver } from '../sources/observe';
import { isSourceError } from '../errors';

export interface Metrics {
  registry: client.Registry;
  sourceObserver: SourceObserver;
  /** One GraphQL operation answered: counts it and observes its duration. */
  observeRequest(operation: string, outcome: string, role: string, seconds: number): void;
}

export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'c360_process_' });

  const sourceRequests = new client.Counter({
    name: 'c360_source_requests_total',
    help: 'Calls made to a source system (one per batch call, not per key).',
    labelNames: ['source', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  const sourceDuration = new client.Histogram({
    name: 'c360_source_request_duration_seconds',
    help: 'Duration of calls to a source system.',
    labelNames: ['source', 'operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const batchSize = new client.Histogram({
    name: 'c360_source_batch_size',
    help: 'Keys carried by one call to a source system.',
    labelNames: ['source', 'operation'] as const,
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    registers: [registry],
  });
  const graphqlRequests = new client.Counter({
    name: 'c360_graphql_requests_total',
    help: 'GraphQL operations served, by operation name and outcome (ok, partial, error).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });

  const graphqlDuration = new client.Histogram({
    name: 'c360_graphql_request_duration_seconds',
    help: 'Duration of GraphQL operations, from parsing to the response, by operation name, outcome (ok, partial, error) and role.',
    labelNames: ['operation', 'outcome', 'role'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  // The label-bound children of one (source, operation), made once: prom-client hashes a labels object on every call otherwise.
  const bound = new Map<
    string,
    { batch: client.Histogram.Internal<'source' | 'operation'>; duration: client.Histogram.Internal<'source' | 'operation'>; ok: client.Counter.Internal }
  >();
  const boundTo = (source: string, operation: string) => {
    const key = `${source}\u0000${operation}`;
    let b = bound.get(key);
    if (!b) {
      b = {
        batch: batchSize.labels(source, operation),
        duration: sourceDuration.labels(source, operation),
        ok: sourceRequests.labels({ source, operation, outcome: 'ok' }),
      };
      bound.set(key, b);
    }
    return b;
  };

  const sourceObserver: SourceObserver = {
    async call(c, run) {
      const b = boundTo(c.source, c.operation);
      b.batch.observe(c.batchSize);
      const end = b.duration.startTimer();
      try {
        const out = await run();
        b.ok.inc();
        return out;
      } catch (e) {
        sourceRequests.inc({ source: c.source, operation: c.operation, outcome: isSourceError(e) ? e.code.toLowerCase() : 'error' });
        throw e;
      } finally {
        end();
      }
    },
  };
  // The same for each (operation, outcome, role): its label sets are bounded (operation names are capped, src/graphql.ts).
  const requestBound = new Map<string, { count: client.Counter.Internal; duration: client.Histogram.Internal<'operation' | 'outcome' | 'role'> }>();
  const observeRequest = (operation: string, outcome: string, role: string, seconds: number) => {
    const key = `${operation}\u0000${outcome}\u0000${role}`;
    let b = requestBound.get(key);
    if (!b) {
      b = { count: graphqlRequests.labels(operation, outcome), duration: graphqlDuration.labels(operation, outcome, role) };
      requestBound.set(key, b);
    }
    b.count.inc();
    b.duration.observe(seconds);
  };
  return { registry, sourceObserver, observeRequest };
}
