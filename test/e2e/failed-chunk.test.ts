/**
 * Gateway: a chunk that fails. A connector cuts a level's keys into chunks of `maxBatch` and asks
 * for them at once. When one chunk's call fails, only the customers whose keys rode in that chunk
 * lose the source's fields (null, with the coded error naming the source); every other customer
 * of the level keeps them. Each HTTP system (helpdesk, WeChat, WeCom, marketplace) sits behind a
 * pass-through on 127.0.0.1 that answers 503 to every request carrying one chosen record's id, so
 * the chunk holding that record fails, however the chunks are cut, and the others reach the
 * stand-in and answer.
 */
import { startPassThrough, type PassThrough, type SeenRequest } from '../helpers/http-pass-through';
import { callsByOperation, readTruth, startTestWorld, type TestWorld } from '../helpers/world';
import type { SourceName } from '../../src/vocabulary';

/** The HTTP sources of the test world, each behind its own pass-through. */
const HTTP_SOURCES = ['support', 'scrm', 'wecom', 'marketplace'] as const;
type HttpSource = (typeof HTTP_SOURCES)[number];

/** Keys per call: small, so a few dozen customers make several chunks per source. */
const MAX_BATCH = 3;
/** Customers asked for at once: those with a record in some HTTP system, up to this many. */
const CUSTOMERS = 100;

/** The fields of each source the query reads, by the field name on Customer. */
const FIELDS: Record<HttpSource, string[]> = {
  support: ['supportRequesters', 'tickets'],
  scrm: ['scrmFollowers'],
  wecom: ['wecomContacts'],
  marketplace: ['marketplaceBuyers', 'orderSummary'],
};

const QUERY = `query Level($ids: [ID!]!) {
  customers(ids: $ids) {
    id
    supportRequesters { id }
    tickets { id }
    scrmFollowers { openid }
    wecomContacts { externalUserId }
    marketplaceBuyers { id }
    orderSummary { orderCount }
    timeline(first: 5) { gaps { source code } }
  }
}`;

let world: TestWorld;
const proxies: PassThrough[] = [];
const upstream: Partial<Record<HttpSource, string>> = {};
/** Per source, the record id whose requests the pass-through refuses; null: none refused. */
const poisoned: Record<HttpSource, string | null> = { support: null, scrm: null, wecom: null, marketplace: null };
/** Per source, every key a refused request carried. */
const refusedKeys: Record<HttpSource, Set<string>> = { support: new Set(), scrm: new Set(), wecom: new Set(), marketplace: new Set() };
/** The customers asked for, and each one's record ids per source. */
let customers: string[];
let recordsOf: Map<string, Map<SourceName, string[]>>;
/** Per source, the index (in `customers`) of the customer whose record's requests are refused. */
const victim = {} as Record<HttpSource, number>;
/** Per source, which customers have records there. */
const member = {} as Record<HttpSource, boolean[]>;

/** The query parameters that carry keys in each system's wire format (helpdesk, marketplace, WeCom). */
const KEY_PARAMS = ['ids', 'requester_ids', 'buyer_open_uid', 'tid', 'external_userid'];

/** Every key a request carries: its key parameters (comma lists split) and every string in its JSON body (WeChat's openids). */
function carried(req: SeenRequest): string[] {
  const out: string[] = [];
  for (const name of KEY_PARAMS) for (const v of req.url.searchParams.getAll(name)) out.push(...v.split(','));
  const walk = (x: unknown): void => {
    if (typeof x === 'string') out.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') Object.values(x).forEach(walk);
  };
  if (req.body) {
    try {
      walk(JSON.parse(req.body));
    } catch {
      // not JSON: carries nothing we look for
    }
  }
  return out;
}

beforeAll(async () => {
  for (const source of HTTP_SOURCES) {
    proxies.push(
      await startPassThrough(
        () => upstream[source] as string,
        () => undefined,
        (req) => {
          const poison = poisoned[source];
          if (poison === null) return null;
          const ids = carried(req);
          if (!ids.includes(poison)) return null;
          for (const id of ids) refusedKeys[source].add(id);
          return 503;
        },
      ),
    );
  }
  world = await startTestWorld({
    people: 300,
    seed: 5,
    configPatch: (c) => {
      HTTP_SOURCES.forEach((name, i) => {
        const s = c.sources.find((x: { name: string }) => x.name === name);
        upstream[name] = s.baseUrl;
        s.baseUrl = proxies[i].url;
        s.maxBatch = MAX_BATCH;
        // The breaker is not under test here: failures of several queries in a row must not open it.
        s.breaker = { failureThreshold: 1000, cooldownMs: 600_000 };
      });
    },
  });
  // Customers with records in an HTTP source, as OneID linked them.
  const keys: Array<{ source: SourceName; recordId: string }> = [];
  for (const records of readTruth(world.truthFile).values()) keys.push({ source: records[0].source as SourceName, recordId: records[0].recordId });
  const ids = [...new Set((await world.gw.idmap.customerIdsBySourceRecords(keys)).filter((id): id is string => id !== null))];
  const linked = await world.gw.idmap.sourceRecordsByCustomerIds(ids);
  recordsOf = new Map();
  customers = [];
  for (let i = 0; i < ids.length && customers.length < CUSTOMERS; i++) {
    const bySource = new Map<SourceName, string[]>();
    for (const r of linked[i]) bySource.set(r.source, [...(bySource.get(r.source) ?? []), r.recordId]);
    if (!HTTP_SOURCES.some((s) => bySource.has(s))) continue;
    customers.push(ids[i]);
    recordsOf.set(ids[i], bySource);
  }
  for (const source of HTTP_SOURCES) {
    member[source] = customers.map((id) => recordsOf.get(id)!.has(source));
    // A customer in the middle of the source's keys: chunks before and after it answer.
    const members = customers.flatMap((_, i) => (member[source][i] ? [i] : []));
    victim[source] = members[Math.floor(members.length / 2)];
  }
});

/** Refuses, in each system, every request carrying the victim's first record there. */
function poison(): void {
  for (const source of HTTP_SOURCES) {
    poisoned[source] = recordsOf.get(customers[victim[source]])!.get(source)![0];
    refusedKeys[source].clear();
  }
}

function heal(): void {
  for (const source of HTTP_SOURCES) poisoned[source] = null;
}

afterAll(async () => {
  await world?.close();
  await Promise.all(proxies.map((p) => p.close()));
});

/** The errors of the answer at `customers[i].field`, as `{ code, source }`. */
function errorsAt(body: any, i: number, field: string): Array<{ code: string; source: string }> {
  return (body.errors ?? [])
    .filter((e: any) => e.path?.[0] === 'customers' && e.path[1] === i && e.path[2] === field)
    .map((e: any) => ({ code: e.extensions.code, source: e.extensions.source }));
}

describe('Gateway: one failed chunk of a level', () => {
  it('has customers enough in each HTTP system that its keys make several chunks', () => {
    expect(customers).toHaveLength(CUSTOMERS);
    for (const source of HTTP_SOURCES) expect([source, member[source].filter(Boolean).length > 3 * MAX_BATCH]).toEqual([source, true]);
  });

  it("fails only the customers whose keys rode in the failed chunk, with the source's coded error; the others keep their data", async () => {
    poison();
    world.reset();
    let body: any;
    try {
      ({ body } = await world.query(QUERY, { ids: customers }));
    } finally {
      heal();
    }
    const answers = body.data.customers as any[];
    expect(answers.map((c) => c.id)).toEqual(customers);

    for (const source of HTTP_SOURCES) {
      const v = victim[source];
      // Those whose record ids a refused request carried (WeCom asks one contact per request: just the victim).
      const carriedIn = customers.map((id) => (recordsOf.get(id)!.get(source) ?? []).some((r) => refusedKeys[source].has(r)));
      expect([source, carriedIn[v]]).toEqual([source, true]);
      for (const field of FIELDS[source]) {
        const failed = answers.map((_, i) => errorsAt(body, i, field).length > 0);
        // The victim's chunk failed: its field is null with SOURCE_UNAVAILABLE naming the source.
        expect([source, field, answers[v][field], errorsAt(body, v, field)]).toEqual([source, field, null, [{ code: 'SOURCE_UNAVAILABLE', source }]]);
        // At most one chunk's customers lost it, and only those a refused request carried.
        const lost = failed.filter(Boolean).length;
        expect([source, field, lost >= 1 && lost <= MAX_BATCH]).toEqual([source, field, true]);
        if (source !== 'wecom') expect([source, field, failed]).toEqual([source, field, carriedIn]);
        // Everyone else with records there has the field (a list, or a summary when they ordered), without an error.
        for (let i = 0; i < answers.length; i++) {
          if (failed[i] || !member[source][i] || field === 'orderSummary') continue;
          expect([source, field, i, Array.isArray(answers[i][field])]).toEqual([source, field, i, true]);
        }
        if (field === 'orderSummary') expect(answers.filter((c, i) => !failed[i] && c.orderSummary !== null).length).toBeGreaterThan(MAX_BATCH);
      }
      // The timeline of a customer whose chunk failed names the gap; the others have none for that source.
      const gaps = answers.map((c) => c.timeline.gaps.some((g: { source: string }) => g.source === source.toUpperCase()));
      expect([source, gaps[v]]).toEqual([source, true]);
      expect([source, gaps.filter(Boolean).length <= MAX_BATCH]).toEqual([source, true]);
    }
    // The request reports each source as unavailable: one of its calls failed.
    for (const source of HTTP_SOURCES) expect([source, body.extensions.sources[source].status]).toEqual([source, 'unavailable']);
  });

  it('still makes one observed call per chunk: as many as a healthy level makes, the failed chunk counted once', async () => {
    world.reset();
    const healthy = await world.query(QUERY, { ids: customers });
    expect(healthy.body.errors).toBeUndefined();
    const calmCalls = callsByOperation(world);

    poison();
    world.reset();
    try {
      await world.query(QUERY, { ids: customers });
    } finally {
      heal();
    }
    const faultCalls = callsByOperation(world);
    const counted = (m: ReturnType<typeof callsByOperation>) =>
      Object.fromEntries([...m].filter(([, g]) => (HTTP_SOURCES as readonly string[]).includes(g.source)).map(([op, g]) => [op, g.calls]));
    // The token calls are cached across requests: compare the calls that carry keys.
    const withKeys = (m: ReturnType<typeof callsByOperation>) => Object.fromEntries(Object.entries(counted(m)).filter(([op]) => !op.endsWith('.token')));
    expect(withKeys(faultCalls)).toEqual(withKeys(calmCalls));
    for (const [op, g] of faultCalls) if ((HTTP_SOURCES as readonly string[]).includes(g.source) && g.keys > 0) expect([op, g.calls >= 2]).toEqual([op, true]);
  });
});
