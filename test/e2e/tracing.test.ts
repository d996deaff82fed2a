/**
 * Tracing: one query's span tree, exported in memory. The request continues the caller's W3C
 * trace; OneID batch reads and source calls are its descendants, with source, operation, batch
 * size and outcome as attributes and never a value; the helpdesk (over real HTTP, through a
 * recording proxy) receives the traceparent of its own call's span. The request's latency is in
 * /metrics by operation, outcome and role.
 */
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { startTestWorld, readTruth, type TestWorld } from '../helpers/world';
import http from 'node:http';
import { startPassThrough, type PassThrough } from '../helpers/http-pass-through';
import { createTracing } from '../../src/observability/tracing';
import { outgoingHeaders } from '../../src/sources/outgoing';
import type { SourceName } from '../../src/vocabulary';
import { captureLog } from '../helpers/log-capture';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const exporter = new InMemorySpanExporter();
const { log, lines } = captureLog('info');
let world: TestWorld;
let proxy: PassThrough;
let helpdesk = '';
/** traceparent headers the helpdesk stand-in received, through the proxy. */
const received: string[] = [];
let customerId: string;

beforeAll(async () => {
  // A pass-through proxy in front of the helpdesk stand-in that notes each request's traceparent.
  proxy = await startPassThrough(
    () => helpdesk,
    (req) => received.push(String(req.headers.traceparent ?? '')),
  );
  world = await startTestWorld({
    people: 120,
    seed: 8,
    demoSystems: false,
    spanExporter: exporter,
    log,
    configPatch: (c) => {
      const support = c.sources.find((s: { kind: string }) => s.kind === 'helpdesk');
      helpdesk = support.baseUrl;
      support.baseUrl = proxy.url;
    },
  });
  for (const records of readTruth(world.truthFile).values()) {
    if (!records.some((r) => r.source === 'support') || !records.some((r) => r.source === 'crm')) continue;
    [customerId] = (await world.gw.idmap.customerIdsBySourceRecords(records.map((r) => ({ source: r.source as SourceName, recordId: r.recordId })))) as string[];
    if (customerId) break;
  }
});

afterAll(async () => {
  await world?.close();
  await proxy?.close();
});

describe('Tracing: the span tree of one query', () => {
  let spans: ReadableSpan[];
  let root: ReadableSpan;
  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

  beforeAll(async () => {
    exporter.reset();
    received.length = 0;
    const { status, body } = await world.query(
      `query Traced($id: ID!) { customer(id: $id) { id crmContacts { id } supportRequesters { id } } }`,
      { id: customerId },
      {
        traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
      },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    // The request span ends when the response closes, just after the client has read it.
    for (let i = 0; i < 1500 && !exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER); i++) await new Promise((r) => setTimeout(r, 20));
    spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === TRACE_ID);
    root = spans.find((s) => s.kind === SpanKind.SERVER)!;
  });

  it('continues the caller’s trace: the request span is the child of its traceparent', () => {
    expect(root).toBeDefined();
    expect(root.name).toBe('POST /graphql');
    expect(parentOf(root)).toBe(CALLER_SPAN);
    expect(root.attributes).toMatchObject({ 'graphql.operation.name': 'Traced', 'c360.role': 'admin', 'c360.outcome': 'ok', 'http.response.status_code': 200 });
    expect(root.resource.attributes['service.name']).toBe('c360');
  });

  it('ties the request line and the trace together: the trace id on the line, the request id on the span', () => {
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'graphql request' && l.operation === 'Traced');
    expect(line).toMatchObject({ traceId: TRACE_ID, requestId: expect.any(String) });
    expect(root.attributes['c360.request_id']).toBe(line.requestId);
  });

  it('puts every OneID batch read, loader batch and source call under the request, with what they did and nothing they carried', () => {
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    for (const s of spans) if (s !== root) expect([s.name, ids.has(parentOf(s)!)]).toEqual([s.name, true]);

    const oneid = spans.filter((s) => s.name.startsWith('oneid '));
    expect(oneid.length).toBeGreaterThan(0);
    for (const s of oneid) expect(s.attributes).toEqual({ 'c360.operation': expect.any(String), 'c360.batch_size': expect.any(Number), 'c360.outcome': 'ok' });

    const sources = spans.filter((s) => s.name.startsWith('source '));
    expect(new Set(sources.map((s) => s.attributes['c360.source']))).toEqual(new Set(['crm', 'support']));
    for (const s of sources) {
      expect(s.kind).toBe(SpanKind.CLIENT);
      expect(s.attributes).toEqual({ 'c360.source': expect.any(String), 'c360.operation': expect.any(String), 'c360.batch_size': 1, 'c360.outcome': 'ok' });
      expect(s.name).toBe(`source ${s.attributes['c360.source']} ${s.attributes['c360.operation']}`);
    }
    // Each source call runs inside the loader batch that asked for it, named and sized like it, and never carrying a value.
    const batches = spans.filter((s) => s.name.startsWith('batch '));
    for (const b of batches)
      expect(b.attributes).toEqual({ 'c360.source': expect.any(String), 'c360.operation': expect.any(String), 'c360.batch_size': 1, 'c360.outcome': 'ok' });
    for (const s of sources) {
      const parent = spans.find((p) => p.spanContext().spanId === parentOf(s));
      expect([s.name, parent?.name]).toEqual([s.name, `batch ${s.attributes['c360.source']} ${parent?.attributes['c360.operation']}`]);
      expect(parentOf(parent!)).toBe(root.spanContext().spanId);
    }
    // As many source spans as source calls the connector boundary counted.
    expect(sources.length).toBe(world.calls.calls.length);
    // Never a value: no customer id, record id or key in any attribute.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(customerId);
  });

  it('sends the helpdesk the traceparent of its own call’s span', () => {
    const calls = spans.filter((s) => s.name.startsWith('source ') && s.attributes['c360.source'] === 'support');
    expect(received.length).toBe(calls.length);
    expect(received.sort()).toEqual(calls.map((s) => `00-${TRACE_ID}-${s.spanContext().spanId}-01`).sort());
  });

  it('counts the request in c360_graphql_request_duration_seconds by operation, outcome and role', async () => {
    const text = await (await fetch(`${world.url}/metrics`)).text();
    expect(text).toMatch(/^c360_graphql_request_duration_seconds_count\{operation="Traced",outcome="ok",role="admin"\} 1$/m);
  });
});

describe('Tracing: a malformed traceparent', () => {
  it.each([
    ['not hex', `00-${'z'.repeat(32)}-${CALLER_SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${CALLER_SPAN}-01`],
    ['version ff', `ff-${TRACE_ID}-${CALLER_SPAN}-01`],
    ['personal data in it', '00-+8613800138000-li.lei@qq.com-01'],
  ])('is ignored, never an error and never passed on (%s): the request starts a trace of its own', async (_what, traceparent) => {
    exporter.reset();
    received.length = 0;
    lines.length = 0;
    const { status, body } = await world.query(`query Malformed($id: ID!) { customer(id: $id) { supportRequesters { id } } }`, { id: customerId }, { traceparent });
    expect([status, body.errors]).toEqual([200, undefined]);
    for (let i = 0; i < 1500 && !exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER); i++) await new Promise((r) => setTimeout(r, 20));
    const root = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(root.parentSpanContext).toBeUndefined();
    expect(received.length).toBeGreaterThan(0);
    for (const sent of received) expect(sent).toMatch(new RegExp(`^00-${root.spanContext().traceId}-[0-9a-f]{16}-01$`));
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.operation === 'Malformed');
    expect(line.traceId).toBe(root.spanContext().traceId);
    expect(lines.join('\n')).not.toContain(traceparent);
  });
});

describe('Tracing: off by default', () => {
  it('records nothing, yet passes a caller’s trace context through to the sources unchanged', async () => {
    const tracing = createTracing({ serviceName: 'c360' }, {});
    expect(tracing.enabled).toBe(false);
    const server = http.createServer((req, res) => tracing.request(req, res, '/x', async () => res.end(JSON.stringify(outgoingHeaders()))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/x`;
    const withTrace = await (await fetch(url, { headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` } })).json();
    const without = await (await fetch(url)).json();
    await new Promise((resolve) => server.close(resolve));
    expect(withTrace).toEqual({ traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` });
    expect(without).toEqual({});
  });
});
