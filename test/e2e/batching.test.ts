/**
 * Gateway: batching. For a query over N customers touching all four sources, the gateway
 * makes one OneID round per level and one call per source operation, more only where a
 * system's batch limit forces chunks, whatever N is. Counted at the connector boundary.
 * The query includes every golden field (read from the same calls as the per-source fields),
 * provenance, the extended order summary, RFM, tags, lifecycle and 20 timeline events.
 */
import { callsByOperation, startTestWorld, readTruth, type TestWorld } from '../helpers/world';
import type { SourceName } from '../../src/vocabulary';

const FULL = `query Full($ids: [ID!]!) {
  customers(ids: $ids) {
    id
    identifiers { kind value }
    sourceRecords { source recordId }
    crmContacts { id phone tierChanges { toTier } }
    shopAccounts { id channel }
    orders(first: 5) { id total { amount } lines { sku } refunds { id } }
    orderSummary { orderCount totalSpent { amount currency } }
    supportRequesters { id }
    tickets(first: 5) { id status }
    scrmFollowers { openid gender coupons { id value { amount } } groups { chatId } }
    wecomContacts { externalUserId name follows { staffId remarkMobiles } }
    marketplaceBuyers { id nick channel }
    name phone email gender birthday city province memberTier registeredAt registrationChannel
    marketingConsent { sms email wechat }
    provenance { field value source rule candidates { source recordId value } }
    orderSummary { lifetimeValue { amount } averageOrderValue { amount } ordersLast30Days ordersLast90Days ordersLast365Days favouriteCategories { category orders } refundRate }
    rfm { recencyDays frequency r f m segment }
    tags { name rule reason }
    lifecycle { stage }
    timeline(first: 20) { edges { cursor node { id kind at source recordId } } pageInfo { hasNextPage endCursor } gaps { source code } }
  }
}`;

/** Source calls made once per cache lifetime rather than per query, with how often one query may make them. */
const CACHED_OPERATIONS: Record<string, number> = {
  'scrm.token': 1, // the access token, fetched once per token lifetime
  'orders.rfmBoundaries': 1, // RFM quintile boundaries of the whole order base, cached with a TTL
  'wecom.token': 1, // WeCom's access token, likewise
  // The marketplace has no aggregate endpoint: one cache fill pages through its whole order base.
  'marketplace.rfmBoundaries': Number.POSITIVE_INFINITY,
};

/**
 * Operations that read several endpoints of the system per batch (the marketplace answers
 * summaries and events from its trades list and its refunds list): that many calls per chunk.
 */
const ENDPOINTS_PER_CHUNK: Record<string, number> = { 'marketplace.orderSummariesByBuyerIds': 2, 'marketplace.eventsByBuyerIds': 2 };

let world: TestWorld;
let allSix: string[];
let others: string[];

beforeAll(async () => {
  world = await startTestWorld({ people: 700, seed: 11 });
  // Customers to ask for: those OneID links to records in all six systems first, then the rest.
  // (Chosen by what OneID linked, not by the ground truth: a person the resolver split in two
  // would otherwise be asked for through a customer that lacks some systems.)
  const truth = readTruth(world.truthFile);
  const keys: Array<{ source: SourceName; recordId: string }> = [];
  for (const records of truth.values()) keys.push({ source: records[0].source as SourceName, recordId: records[0].recordId });
  const ids = [...new Set((await world.gw.idmap.customerIdsBySourceRecords(keys)).filter((id): id is string => id !== null))];
  const linked = await world.gw.idmap.sourceRecordsByCustomerIds(ids);
  const systems = world.gw.registry.sources.length;
  allSix = ids.filter((_, i) => new Set(linked[i].map((r) => r.source)).size === systems);
  others = ids.filter((_, i) => new Set(linked[i].map((r) => r.source)).size < systems);
  world.reset();
});

afterAll(async () => world?.close());

function pick(n: number): string[] {
  return [...allSix, ...others].slice(0, n);
}

describe('Gateway: batching', () => {
  it('has people present in all six systems to ask for', () => {
    expect(world.gw.registry.sources.map((s) => s.name).sort()).toEqual(['crm', 'marketplace', 'orders', 'scrm', 'support', 'wecom']);
    expect(allSix.length).toBeGreaterThanOrEqual(2);
    expect(allSix.length + others.length).toBeGreaterThanOrEqual(200);
  });

  it.each([1, 10, 200])('makes one call per source operation for %i customers', async (n) => {
    world.reset();
    const ids = pick(n);
    const { status, body } = await world.query(FULL, { ids });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(body.data.customers).toHaveLength(n);
    expect(body.data.customers.every((c: any) => c && c.id)).toBe(true);

    const groups = callsByOperation(world);
    // All six systems were asked, each through its batch functions.
    expect(new Set([...groups.values()].map((g) => g.source))).toEqual(new Set(['crm', 'orders', 'support', 'scrm', 'wecom', 'marketplace']));
    for (const [op, g] of groups) {
      if (op in CACHED_OPERATIONS) {
        expect({ op, calls: g.calls <= CACHED_OPERATIONS[op] }).toEqual({ op, calls: true });
        continue;
      }
      const maxBatch = world.gw.registry.get(g.source)!.connector.maxBatch;
      const endpoints = ENDPOINTS_PER_CHUNK[op] ?? 1;
      expect({ op, calls: g.calls }).toEqual({ op, calls: endpoints * Math.ceil(g.keys / endpoints / maxBatch) });
    }
    // One OneID round per level: customers by id, then their records and identifiers.
    const idmapByMethod = world.idmapCalls.reduce<Record<string, number>>((m, c) => ({ ...m, [c.method]: (m[c.method] ?? 0) + 1 }), {});
    expect(idmapByMethod).toEqual({ customersByIds: 1, sourceRecordsByCustomerIds: 1, identifiersByCustomerIds: 1 });
  });

  it('calls each source once for a 200-customer query, as /metrics shows', async () => {
    const counters = async () => {
      const text = await (await fetch(`${world.url}/metrics`)).text();
      const out: Record<string, number> = {};
      for (const m of text.matchAll(/^c360_source_requests_total\{([^}]*)\} (\d+)/gm)) {
        const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        const key = `${labels.source}.${labels.operation}`;
        out[key] = (out[key] ?? 0) + Number(m[2]);
      }
      return out;
    };
    const before = await counters();
    world.reset();
    const { body } = await world.query(
      `query Top($ids: [ID!]!) { customers(ids: $ids) { id crmContacts { id } shopAccounts { id } supportRequesters { id } scrmFollowers { openid } wecomContacts { externalUserId } marketplaceBuyers { id } } }`,
      { ids: pick(200) },
    );
    expect(body.errors).toBeUndefined();
    const after = await counters();
    const delta = Object.fromEntries(
      Object.keys(after)
        .map((k) => [k, after[k] - (before[k] ?? 0)])
        .filter(([, d]) => (d as number) > 0),
    );
    const groups = callsByOperation(world);
    const expected: Record<string, number> = {};
    for (const [op, g] of groups) expected[op] = g.calls;
    expect(delta).toEqual(expected);
    for (const op of ['crm.contactsByIds', 'orders.accountsByIds', 'support.requestersByIds', 'scrm.followersByOpenids', 'wecom.contactsByIds', 'marketplace.buyersByIds']) {
      const g = groups.get(op)!;
      expect(g.calls).toBe(Math.ceil(g.keys / world.gw.registry.get(g.source)!.connector.maxBatch));
    }
    expect(delta['crm.contactsByIds']).toBe(1);
    expect(delta['orders.accountsByIds']).toBe(1);
  });
});
