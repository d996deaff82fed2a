/**
 * OpenTelemetry tracing. A request's span continues the caller's trace when it sends a W3C
 * `traceparent`; under it, one span per OneID batch read and one per source call (per chunk,
 * as the connector boundary counts them), and each HTTP source call carries its own span's
 * `traceparent` to the system it calls. Attributes say which source, which operation, how many
 * keys and how it went: never a key, a value or an error message (those may hold personal data).
 *
 * Export is off by default. With `telemetry.otlp` in config, or OTEL_EXPORTER_OTLP_ENDPOINT /
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT in the environment, spans go to an OTLP/HTTP collector in
 * batches. Without an exporter, no span is recorded, but a caller's trace context still passes
 * through to the HTTP sources. Tests hand in an exporter of their own (in memory).
 */
import type http from 'node:http';
import { context, isSpanContextValid, trace, SpanKind, SpanStatusCode, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { CallObserver } from '../sources/observe';
import { setOutgoingHeaders } from '../sources/outgoing';
import { sourceCallOutcome } from './metrics';

export interface TelemetryOptions {
  serviceName: string;
  /** Extra resource attributes (deployment.environment, service.namespace, …). */
  resourceAttributes?: Record<string, string>;
  /** An OTLP/HTTP traces endpoint (`https://collector:4318/v1/traces`) and its headers. */
  otlp?: { url?: string; headers?: Record<string, string> };
  /** An exporter of the caller's (tests: in memory); spans are handed to it as each ends. */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Whether spans are recorded and exported. */
  enabled: boolean;
  /** Runs one HTTP request in its span, a child of the caller's `traceparent` if any; the span ends when the response does. */
  request<T>(req: http.IncomingMessage, res: http.ServerResponse, route: string, fn: () => Promise<T>): Promise<T>;
  /** Runs `fn` in a child span of the current one. */
  span<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T>;
  /** One span per source call, at the connector boundary, active while the call runs (nothing without an exporter). */
  sourceObserver: CallObserver;
  /** Flushes what is left to the exporter and stops. */
  shutdown(): Promise<void>;
}

const propagator = new W3CTraceContextPropagator();
// The propagator's getter and setter, made once: each request reads its headers through the one,
// each HTTP source call writes its traceparent through the other (an object and closures per use before).
const headerGetter = { get: (h: http.IncomingHttpHeaders, k: string) => h[k], keys: (h: http.IncomingHttpHeaders) => Object.keys(h) };
const headerSetter = { set: (c: Record<string, string>, k: string, v: string) => void (c[k] = v) };

/** The process's async context (one per process, whatever the number of gateways in it) and the headers it gives HTTP sources. */
let installed = false;
function installContext() {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  setOutgoingHeaders(() => {
    const carrier: Record<string, string> = {};
    propagator.inject(context.active(), carrier, headerSetter);
    return carrier;
  });
}

/** The OTLP endpoint the config or the standard environment variables name; undefined: export off. */
function otlpFrom(opts: TelemetryOptions, env: NodeJS.ProcessEnv): TelemetryOptions['otlp'] {
  if (opts.otlp) return opts.otlp;
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  // The exporter reads these itself (and OTEL_EXPORTER_OTLP_HEADERS); their presence is the switch.
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT) return {};
  return undefined;
}

export function createTracing(opts: TelemetryOptions, env: NodeJS.ProcessEnv = process.env): Tracing {
  installContext();
  const otlp = otlpFrom(opts, env);
  const processors = [
    ...(opts.exporter ? [new SimpleSpanProcessor(opts.exporter)] : []),
    ...(otlp ? [new BatchSpanProcessor(new OTLPTraceExporter({ ...(otlp.url ? { url: otlp.url } : {}), headers: otlp.headers }))] : []),
  ];
  const enabled = processors.length > 0;
  const provider = enabled
    ? new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': opts.serviceName, ...opts.resourceAttributes }),
        spanProcessors: processors,
      })
    : null;
  // Without a provider, the API's tracer makes non-recording spans that still carry the caller's trace context.
  const tracer: Tracer = provider ? provider.getTracer('c360') : trace.getTracer('c360');

  const span: Tracing['span'] = (name, attributes, fn) =>
    tracer.startActiveSpan(name, { attributes }, async (s: Span) => {
      try {
        const out = await fn();
        s.setAttribute('c360.outcome', 'ok');
        return out;
      } catch (e) {
        const code = (e as { code?: unknown; extensions?: { code?: unknown } }).extensions?.code ?? (e as { code?: unknown }).code;
        s.setAttribute('c360.outcome', typeof code === 'string' ? code.toLowerCase() : 'error');
        s.setStatus({ code: SpanStatusCode.ERROR });
        throw e;
      } finally {
        s.end();
      }
    });

  return {
    enabled,
    request(req, res, route, fn) {
      // Our own propagator, not the API's global one: nothing here registers process-wide state but the async context.
      const remote = propagator.extract(context.active(), req.headers, headerGetter);
      // Nothing recorded and no caller's trace to pass on: no span, and no async context entered
      // (every promise of a request made inside one pays for its propagation).
      if (!enabled && !trace.getSpanContext(remote)) return fn();
      const s = tracer.startSpan(`${req.method} ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'http.route': route } }, remote);
      res.once('close', () => {
        s.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500 || !res.writableFinished) s.setStatus({ code: SpanStatusCode.ERROR });
        s.end();
      });
      return context.with(trace.setSpan(remote, s), fn);
    },
    span,
    // Without an exporter a source span would be a non-recording copy of its parent's context (the
    // same traceparent goes out either way): no span, no context switch, no wrapper per source call.
    sourceObserver: !enabled
      ? {}
      : {
          around: (c, run) =>
            tracer.startActiveSpan(
              `source ${c.source} ${c.operation}`,
              { kind: SpanKind.CLIENT, attributes: { 'c360.source': c.source, 'c360.operation': c.operation, 'c360.batch_size': c.batchSize } },
              async (s: Span) => {
                try {
                  const out = await run();
                  s.setAttribute('c360.outcome', 'ok');
                  return out;
                } catch (e) {
                  s.setAttribute('c360.outcome', sourceCallOutcome(e));
                  s.setStatus({ code: SpanStatusCode.ERROR });
                  throw e;
                } finally {
                  s.end();
                }
              },
            ),
        },
    shutdown: async () => {
      await provider?.shutdown();
    },
  };
}

/** The active span (a request's, inside one): plugins add what only they know, like the operation name and the role. */
export function activeSpan(): Span | undefined {
  return trace.getActiveSpan();
}

/** A OneID reader whose every batch read is a span `oneid <method>` carrying its batch size (the keys themselves are never recorded). */
export function tracedReader<R extends object>(reader: R, tracing: Tracing): R {
  if (!tracing.enabled) return reader;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(reader)) {
    out[name] =
      typeof value === 'function'
        ? (keys: unknown, ...rest: unknown[]) =>
            tracing.span(`oneid ${name}`, { 'c360.operation': name, 'c360.batch_size': Array.isArray(keys) ? keys.length : 1 }, () => value.call(reader, keys, ...rest))
        : value;
  }
  return out as R;
}

/** The trace id of a span, for a log line to name (undefined without a valid trace context). */
export function traceIdOf(span: Span | undefined): string | undefined {
  const c = span?.spanContext();
  return c && isSpanContextValid(c) ? c.traceId : undefined;
}
