/**
 * Metrics and readiness, counted by hand: each series against what actually happened on the
 * wire. The helpdesk is reached through a counting proxy, so "calls to a source" is what the
 * system received, not what the gateway meant to send.
 */
import { apiKeyFor, startTestWorld, readTruth, type TestWorld } from '../helpers/world';
import http from 'node:http';
import { startPassThrough, type PassThrough } from '../helpers/http-pass-through';
import type { SourceName } from '../../src/vocabulary';

let world: TestWorld;
let proxy: PassThrough;
let helpdesk = '';
/** Requests the helpdesk received (path without query), through the proxy. */
const received: string[] = [];
let customerId: string;
/** A customer with a WeChat (scrm) follower. */
let followerCustomerId: string;

/** Every sample of /metrics, by its name and labels as written (`name{a="b"}`). */
async function scrape(): Promise<Map<string, number>> {
  const text = await (await fetch(`${world.url}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include every `label="value"` given. */
function total(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`) && key !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

beforeAll(async () => {
  proxy = await startPassThrough(
    () => helpdesk,
    (req) => received.push((req.url ?? '').split('?')[0]),
  );
  world = await startTestWorld({
    people: 80,
    seed: 12,
    demoSystems: false,
    configPatch: (c) => {
      const support = c.sources.find((s: { kind: string }) => s.kind === 'helpdesk');
      helpdesk = support.baseUrl;
      support.baseUrl = proxy.url;
      // One failure (a 500, never retried) opens the circuit, for long enough that no probe goes out during the test.
      support.breaker = { failureThreshold: 1, cooldownMs: 600_000 };
    },
  });
  for (const records of readTruth(world.truthFile).values()) {
    if (!records.some((r) => r.source === 'support')) continue;
    [customerId] = (await world.gw.idmap.customerIdsBySourceRecords(records.map((r) => ({ source: r.source as SourceName, recordId: r.recordId })))) as string[];
    if (customerId) break;
  }
  for (const records of readTruth(world.truthFile).values()) {
    const follower = records.find((r) => r.source === 'scrm');
    if (!follower) continue;
    [followerCustomerId] = (await world.gw.idmap.customerIdsBySourceRecords([{ source: 'scrm' as SourceName, recordId: follower.recordId }])) as string[];
    if (followerCustomerId) break;
  }
});

afterAll(async () => {
  await world?.close();
  await proxy?.close();
});

describe('Readiness: probes at once', () => {
  it('share one check: twenty concurrent /readyz cost each source one health call, and each reads the same answer', async () => {
    world.reset();
    received.length = 0;
    // The helpdesk answers slowly, so every probe arrives while the first check still waits for it.
    world.support.setFaults({ latencyMs: 3000 });
    let answers: Array<{ status: number; body: any }>;
    try {
      answers = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const res = await fetch(`${world.url}/readyz`);
          return { status: res.status, body: await res.json() };
        }),
      );
    } finally {
      world.support.setFaults({});
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers.every((a) => a.status === 200 && a.body.checks.support === 'ok')).toBe(true);
    expect(received).toHaveLength(1);
    for (const source of ['crm', 'orders', 'support', 'scrm'] as SourceName[]) expect([source, world.calls.of(source, 'health').length]).toEqual([source, 1]);
    // A probe after it checks again.
    await fetch(`${world.url}/readyz`);
    expect(world.calls.of('support', 'health')).toHaveLength(2);
  });
});

describe('Metrics: a request its client left', () => {
  it('counts as aborted, neither ok nor an error of the gateway, even when the work it started ran to its end', async () => {
    const before = await scrape();
    received.length = 0;
    // The helpdesk answers slowly: the client leaves while the gateway waits for it.
    world.support.setFaults({ latencyMs: 2000 });
    const controller = new AbortController();
    try {
      const asked = fetch(`${world.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin') },
        body: JSON.stringify({ query: 'query Left($id: ID!) { customer(id: $id) { supportRequesters { id } } }', variables: { id: customerId } }),
        signal: controller.signal,
      }).catch(() => 'left');
      for (let i = 0; i < 600 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(received.length).toBeGreaterThan(0);
      controller.abort();
      expect(await asked).toBe('left');
      const count = (samples: Map<string, number>, outcome: string) => total(samples, 'c360_graphql_requests_total', { operation: 'Left', outcome });
      let after = await scrape();
      for (let i = 0; i < 600 && count(after, 'aborted') === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        after = await scrape();
      }
      expect(['aborted', 'ok', 'partial', 'error'].map((o) => count(after, o) - count(before, o))).toEqual([1, 0, 0, 0]);
    } finally {
      world.support.setFaults({});
    }
  });
});

describe('Metrics: source calls', () => {
  const ask = () => world.query(`query Tickets($id: ID!) { customer(id: $id) { id supportRequesters { id } } }`, { id: customerId });

  it('counts calls its circuit refused as circuit_open, and times and sizes only the calls the system received', async () => {
    received.length = 0;
    const before = await scrape();
    world.support.setFaults({ status: 500 });
    try {
      // The first call reaches the helpdesk and fails (the circuit opens); the next two are refused without a request.
      for (let i = 0; i < 3; i++) {
        const { body } = await ask();
        expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'support' });
        expect(body.extensions.sources.support.status).toBe(i === 0 ? 'unavailable' : 'circuit_open');
      }
    } finally {
      world.support.setFaults({});
    }
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, { source: 'support', ...labels }) - total(before, name, { source: 'support', ...labels });

    expect(received).toHaveLength(1);
    expect(delta('c360_source_requests_total', { outcome: 'source_unavailable' })).toBe(1);
    expect(delta('c360_source_requests_total', { outcome: 'circuit_open' })).toBe(2);
    expect(delta('c360_source_requests_total')).toBe(3);
    // Durations and batch sizes are those of calls made: one, not three (two of them ~0 s).
    expect(delta('c360_source_request_duration_seconds_count')).toBe(received.length);
    expect(delta('c360_source_batch_size_count')).toBe(received.length);
  });
});

describe('Metrics: names by Prometheus conventions', () => {
  it("exports the process's own series under the names every Prometheus client uses, and each counter ends in _total", async () => {
    const text = await (await fetch(`${world.url}/metrics`)).text();
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    // Stock dashboards and alerts read these: process_* and nodejs_*, never an application prefix in front.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds'])
      expect([name, types.has(name)]).toEqual([name, true]);
    expect([...types.keys()].filter((n) => !/^(c360|process|nodejs)_/.test(n) || n.includes('process_process'))).toEqual([]);
    expect([...types].filter(([n, t]) => t === 'counter' && !n.endsWith('_total')).map(([n]) => n)).toEqual([]);
  });
});

describe('Metrics: malformed records', () => {
  it('count by source, and name the source bad_response in extensions.sources, though its calls answered', async () => {
    // Two customers with a CRM contact whose created_at the CRM writes as no time at all: the call answers, two of its records cannot be read.
    const broken: Array<{ customerId: string; recordId: string; createdAt: string }> = [];
    for (const records of readTruth(world.truthFile).values()) {
      const crm = records.find((r) => r.source === 'crm');
      if (!crm || broken.length === 2) continue;
      const [id] = (await world.gw.idmap.customerIdsBySourceRecords([{ source: 'crm' as SourceName, recordId: crm.recordId }])) as string[];
      const row = await world.dbs.crm.db('crm_contacts').where({ contact_id: crm.recordId }).first();
      if (id && row) broken.push({ customerId: id, recordId: crm.recordId, createdAt: row.created_at });
    }
    expect(broken).toHaveLength(2);
    const before = await scrape();
    try {
      for (const b of broken) await world.dbs.crm.db('crm_contacts').where({ contact_id: b.recordId }).update({ created_at: 'not a time' });
      // Each record asked for twice (an alias): one malformed record, however many fields carry its error.
      const { body } = await world.query(`query Contacts($ids: [ID!]!) { customers(ids: $ids) { crmContacts { id } again: crmContacts { name } } }`, {
        ids: broken.map((b) => b.customerId),
      });
      expect(body.errors.filter((e: any) => e.extensions.code === 'SOURCE_BAD_RESPONSE' && e.extensions.source === 'crm')).toHaveLength(4);
      expect(body.extensions.sources.crm).toMatchObject({ status: 'bad_response', calls: 1 });
    } finally {
      for (const b of broken) await world.dbs.crm.db('crm_contacts').where({ contact_id: b.recordId }).update({ created_at: b.createdAt });
    }
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => total(after, name, labels) - total(before, name, labels);
    expect(delta('c360_source_malformed_records_total', { source: 'crm' })).toBe(2);
    // The call itself answered: it stays one ok call.
    expect(delta('c360_source_requests_total', { source: 'crm', operation: 'contactsByIds', outcome: 'ok' })).toBe(1);
    expect(delta('c360_source_requests_total', { source: 'crm', outcome: 'source_bad_response' })).toBe(0);
  });
});

describe('Metrics: retried attempts', () => {
  it('counts each attempt a call made again, by source and reason, while the call itself counts once', async () => {
    const before = await scrape();
    world.reset();
    // A 503 without Retry-After is transient: the transport tries once more (retries: 1 by default), then the call fails.
    world.scrm.setFaults({ status: 503 });
    try {
      const { body } = await world.query(`query Followers($id: ID!) { customer(id: $id) { scrmFollowers { openid } } }`, { id: followerCustomerId });
      expect(body.extensions.sources.scrm.status).toBe('unavailable');
    } finally {
      world.scrm.setFaults({});
    }
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, { source: 'scrm', ...labels }) - total(before, name, { source: 'scrm', ...labels });
    const failedCalls = delta('c360_source_requests_total', { outcome: 'source_unavailable' });
    expect(failedCalls).toBeGreaterThan(0);
    expect(delta('c360_source_requests_total')).toBe(failedCalls);
    // Every failed call took two attempts: one retry each, told to every observer of the boundary.
    expect(delta('c360_source_retries_total')).toBe(failedCalls);
    // By why: a 503 without Retry-After, every one.
    expect(delta('c360_source_retries_total', { reason: 'http_503' })).toBe(failedCalls);
    expect(world.calls.retries).toEqual(Array(failedCalls).fill('scrm'));
  });
});

describe('Metrics: every HTTP request, by route and status', () => {
  /** Opens a change-feed stream, waits for its answer to begin, then leaves: the reader a browser tab closed. */
  const openAndLeaveStream = () =>
    new Promise<number>((resolve, reject) => {
      const payload = JSON.stringify({ query: 'subscription { customerChanged { kind customerId } }' });
      const req = http.request(
        `${world.url}/graphql/stream`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': apiKeyFor('admin'), 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          resolve(res.statusCode ?? 0);
          req.destroy();
        },
      );
      req.on('error', () => undefined);
      req.once('error', reject);
      req.end(payload);
    });

  it('counts the requests refused before any GraphQL work, exports and streams, which c360_graphql_requests_total never sees', async () => {
    const before = await scrape();
    const post = (body: string, headers: Record<string, string>) => fetch(`${world.url}/graphql`, { method: 'POST', headers, body });
    const statuses = [
      (await world.query('{ __typename }')).status,
      (await world.query('{ __typename }', undefined, { 'x-api-key': 'not-a-key' })).status,
      (await post('{ __typename }', { 'content-type': 'text/plain', 'x-api-key': apiKeyFor('admin') })).status,
      (await post('{ not json', { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin') })).status,
      (await fetch(`${world.url}/no/such/path`)).status,
      (await fetch(`${world.url}/healthz`, { method: 'DELETE' })).status,
      (await fetch(`${world.url}/healthz`)).status,
      await (await fetch(`${world.url}/export/customers.ndjson?fields=id`, { headers: { 'x-api-key': apiKeyFor('admin') } })).text().then(() => 200),
      await openAndLeaveStream(),
    ];
    expect(statuses).toEqual([200, 401, 415, 400, 404, 405, 200, 200, 200]);

    const expected: Array<[string, string, number]> = [
      ['graphql', '200', 1],
      ['graphql', '401', 1],
      ['graphql', '415', 1],
      ['graphql', '400', 1],
      ['other', '404', 1],
      ['healthz', '405', 1],
      ['healthz', '200', 1],
      ['export', '200', 1],
      ['stream', '200', 1],
    ];
    const delta = (after: Map<string, number>, route: string, status: string) =>
      total(after, 'c360_http_requests_total', { route, status }) - total(before, 'c360_http_requests_total', { route, status });
    // A request is counted once its connection's response is over: the stream's, when the server sees the reader gone.
    let after = await scrape();
    for (let i = 0; i < 300 && delta(after, 'stream', '200') === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await scrape();
    }
    expect(expected.map(([route, status]) => [route, status, delta(after, route, status)])).toEqual(expected);
    // Of the five POSTs to /graphql, the operations counter saw the one that reached Apollo (the export's pages are operations of their own).
    expect(total(after, 'c360_graphql_requests_total', { operation: 'anonymous' }) - total(before, 'c360_graphql_requests_total', { operation: 'anonymous' })).toBe(1);
  });

  it('never takes a label from the path a client sends', async () => {
    const before = await scrape();
    for (const path of ['/a', '/b/c', '/export', '/graphqlx', '/webhooks', '/ide-x']) await fetch(`${world.url}${path}`);
    const after = await scrape();
    const routes = new Set([...after.keys()].filter((k) => k.startsWith('c360_http_requests_total{')).map((k) => /route="([^"]*)"/.exec(k)?.[1]));
    expect([...routes].every((r) => ['graphql', 'stream', 'export', 'webhooks', 'ide', 'healthz', 'readyz', 'metrics', 'other'].includes(r!))).toBe(true);
    expect(total(after, 'c360_http_requests_total', { route: 'other' }) - total(before, 'c360_http_requests_total', { route: 'other' })).toBe(6);
  });
});

describe('Metrics: operations that never ran', () => {
  it('count under the name the client wrote or sent, not as anonymous: a query a schema change broke is found by its name', async () => {
    const before = await scrape();
    const send = (body: unknown) =>
      fetch(`${world.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKeyFor('admin') }, body: JSON.stringify(body) });
    // Fails validation: named in the document.
    await send({ query: 'query OldField { customer(id: "x") { removedField } }' });
    // Fails to parse: named by the request's operationName.
    await send({ query: 'query Broken { customer(id: "x") {', operationName: 'Broken' });
    const after = await scrape();
    const delta = (operation: string) =>
      total(after, 'c360_graphql_requests_total', { operation, outcome: 'error' }) - total(before, 'c360_graphql_requests_total', { operation, outcome: 'error' });
    expect([delta('OldField'), delta('Broken'), delta('anonymous')]).toEqual([1, 1, 0]);
  });
});
