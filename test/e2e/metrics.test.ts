/**
 * Metrics, counted by hand: each series against what actually happened on the wire. The helpdesk
 * is reached through a counting proxy, so "calls to a source" is what the system received, not
 * what the gateway meant to send.
 */
import http from 'node:http';
import { startTestWorld, readTruth, type TestWorld } from '../helpers/world';
import type { SourceName } from '../../src/vocabulary';

let world: TestWorld;
let proxy: http.Server;
let helpdesk = '';
/** Requests the helpdesk received (path without query), through the proxy. */
const received: string[] = [];
let customerId: string;

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
  proxy = http.createServer((req, res) => {
    received.push((req.url ?? '').split('?')[0]);
    const upstream = http.request(`${helpdesk}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as import('node:net').AddressInfo).port}`;
  world = await startTestWorld({
    people: 80,
    seed: 12,
    demoSystems: false,
    configPatch: (c) => {
      const support = c.sources.find((s: { kind: string }) => s.kind === 'helpdesk');
      helpdesk = support.baseUrl;
      support.baseUrl = proxyUrl;
      // One failure (a 500, never retried) opens the circuit, for long enough that no probe goes out during the test.
      support.breaker = { failureThreshold: 1, cooldownMs: 600_000 };
    },
  });
  for (const records of readTruth(world.truthFile).values()) {
    if (!records.some((r) => r.source === 'support')) continue;
    [customerId] = (await world.gw.idmap.customerIdsBySourceRecords(records.map((r) => ({ source: r.source as SourceName, recordId: r.recordId })))) as string[];
    if (customerId) break;
  }
});

afterAll(async () => {
  await world?.close();
  await new Promise((resolve) => proxy?.close(resolve));
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
