/**
 * BI lists over a commerce source that has no `orderFacts` (the capability makes it optional: a
 * system without an aggregate or listing search), so the planner reads its customers' order
 * summaries in chunks of its batch limit, and one chunk fails. The marketplace stands for such a
 * source here: its `orderFacts` is taken off the capability after start, and it sits behind a
 * pass-through on 127.0.0.1 that answers 503 to every request carrying one chosen buyer's id.
 * The shop (SQL, `orderFacts`) answers whole throughout.
 */
import { startChunkRefuser, type ChunkRefuser } from '../helpers/chunk-refuser';
import type { SeenRequest } from '../helpers/http-pass-through';
import { apiKeyFor, startTestWorld, type TestWorld } from '../helpers/world';

/** Buyers per marketplace call: small, so a walk makes many chunks. */
const MAX_BATCH = 3;

const LIST = `query ($filter: CustomerFilter, $orderBy: CustomerOrder, $first: Int, $after: String) {
  customersConnection(first: $first, filter: $filter, orderBy: $orderBy, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id } } plan { reused }
  }
}`;

let world: TestWorld;
let refuser: ChunkRefuser;

/** The buyer ids a marketplace request carries (TOP's `buyer_open_uid`, a comma list on the stand-in). */
const carried = (req: SeenRequest) => {
  const params = new URLSearchParams(req.url.search);
  for (const [k, v] of new URLSearchParams(req.body)) params.append(k, v);
  return params.getAll('buyer_open_uid').flatMap((v) => v.split(','));
};

beforeAll(async () => {
  refuser = await startChunkRefuser('marketplace', carried);
  world = await startTestWorld({
    people: 300,
    seed: 5,
    configPatch: (c) => {
      const s = c.sources.find((x: { name: string }) => x.name === 'marketplace');
      refuser.relay(s);
      s.maxBatch = MAX_BATCH;
      s.retries = 0;
      // The breaker is not under test here: a refused chunk must not open it for the next query.
      s.breaker = { failureThreshold: 1000, cooldownMs: 600_000 };
    },
  });
  // A commerce source without a whole-base answer: the planner verifies it per customer.
  const commerce = world.gw.registry.get('marketplace')!.capabilities.commerce!;
  delete commerce.orderFacts;
  delete commerce.orderFactsCalls;
});

afterAll(async () => {
  await world?.close();
  await refuser?.close();
});

const ids = (body: any): string[] => body.data.customersConnection.edges.map((e: { node: { id: string } }) => e.node.id);

const poisonedRun = <T>(key: string, fn: () => Promise<T>) => refuser.run(world, key, fn);

/** A customer's marketplace buyer id, how many counted (not cancelled) orders each commerce source holds, and when the shop's last was placed. */
type Commerce = { buyer: string; shop: number; marketplace: number; shopLast: string | null };

/** Per customer with a marketplace buyer, its Commerce. */
async function commerceOf(): Promise<Map<string, Commerce>> {
  const rows: Array<{ customer_id: string; record_id: string }> = await world.gw
    .oneidDb('idmap_source_records')
    .where('source', 'marketplace')
    .whereNotNull('customer_id')
    .select('customer_id', 'record_id');
  const out = new Map<string, Commerce>();
  const Q = `query ($ids: [ID!]!) { customers(ids: $ids) { id orders(first: 100) { source status placedAt } } }`;
  for (let i = 0; i < rows.length; i += 50) {
    const chunk = rows.slice(i, i + 50);
    const { body } = await world.query(Q, { ids: chunk.map((r) => r.customer_id) });
    expect(body.errors).toBeUndefined();
    body.data.customers.forEach((c: { id: string; orders: Array<{ source: string; status: string; placedAt: string }> }, j: number) => {
      const counted = c.orders.filter((o) => o.status !== 'cancelled');
      const shop = counted.filter((o) => o.source === 'ORDERS');
      out.set(c.id, {
        buyer: chunk[j].record_id,
        shop: shop.length,
        marketplace: counted.filter((o) => o.source === 'MARKETPLACE').length,
        shopLast:
          shop
            .map((o) => o.placedAt)
            .sort()
            .pop() ?? null,
      });
    });
  }
  return out;
}

describe('BI lists: a verified commerce source failing one chunk', () => {
  let facts: Map<string, Commerce>;

  beforeAll(async () => {
    facts = await commerceOf();
  });

  it('a value order leaves the customers without a whole value out, as a filter does, and names them', async () => {
    const healthy = await world.query(LIST, { orderBy: 'LIFETIME_VALUE_DESC', first: 1000 });
    expect(healthy.body.errors).toBeUndefined();
    const victim = ids(healthy.body).find((c) => (facts.get(c)?.marketplace ?? 0) > 0)!;
    expect(victim).toBeDefined();
    const { result, undecided } = await poisonedRun(facts.get(victim)!.buyer, () => world.query(LIST, { orderBy: 'LIFETIME_VALUE_DESC', first: 1000 }));
    const { body } = result;
    expect(undecided.has(victim)).toBe(true);
    expect(ids(body)).toEqual(ids(healthy.body).filter((c) => !undecided.has(c)));
    expect(body.data.customersConnection.totalCount).toBe(ids(body).length);
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['customersConnection'],
        extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'marketplace', filter: 'orderBy', undecided: undecided.size }),
      }),
    ]);
    expect(body.errors[0].message).toContain('ranked by lifetime value');

    // An export in that order: the same rows, and the customers it left out said once.
    const params = new URLSearchParams({ orderBy: 'LIFETIME_VALUE_DESC', fields: 'id' });
    const { result: ndjson, undecided: again } = await poisonedRun(facts.get(victim)!.buyer, async () =>
      (await fetch(`${world.url}/export/customers.ndjson?${params}`, { headers: { 'x-api-key': apiKeyFor('admin') } })).text(),
    );
    const lines = ndjson
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.filter((l) => l._cursor).map((l) => l.id)).toEqual(ids(healthy.body).filter((c) => !again.has(c)));
    expect(lines.filter((l) => !l._cursor && !l._end)).toEqual([
      { _undecided: expect.objectContaining({ sources: [{ source: 'marketplace', code: 'SOURCE_UNAVAILABLE', filter: 'orderBy', customers: again.size }] }) },
    ]);
  });

  it('decides a customer the shop’s orders already settle for an open range (orders at least n), and only then', async () => {
    // A customer with orders in both sources: the marketplace fails for it, the shop answers.
    const [victim, mine] = [...facts].find(([, f]) => f.shop > 0 && f.marketplace > 0)!;
    const run = (orders: Record<string, number>) => poisonedRun(mine.buyer, () => world.query(LIST, { first: 1000, filter: { orders } }));
    const notes = (body: any) => (body.errors ?? []).filter((e: any) => e.extensions.filter === 'orders');

    // The shop alone reaches the minimum, and no maximum: more orders elsewhere cannot change it.
    const reached = await run({ min: mine.shop });
    expect(ids(reached.result.body)).toContain(victim);
    expect(reached.undecided.has(victim)).toBe(true);
    // The note counts only the chunk's customers the shop did not settle (the victim is not among them).
    expect(notes(reached.result.body).reduce((n: number, e: any) => n + e.extensions.undecided, 0)).toBeLessThan(reached.undecided.size);
    // …and under `not` it is known to be outside.
    const negated = await poisonedRun(mine.buyer, () => world.query(LIST, { first: 1000, filter: { not: { orders: { min: mine.shop } } } }));
    expect(ids(negated.result.body)).not.toContain(victim);

    // Short of the minimum, or with a maximum, the marketplace's orders decide: undecided, named.
    for (const range of [{ min: mine.shop + 1 }, { min: 1, max: mine.shop + mine.marketplace }] as Array<Record<string, number>>) {
      const open = await run(range);
      expect(ids(open.result.body)).not.toContain(victim);
      expect(notes(open.result.body)).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'marketplace' }) })]);
      // Healthy, it matches both.
      const { body } = await world.query(LIST, { first: 1000, filter: { orders: range } });
      expect(ids(body)).toContain(victim);
    }
  });

  it('keeps a lifetime-value minimum undecided although the shop’s spend reaches it: the unread orders may be in another currency', async () => {
    const [victim, mine] = [...facts].find(([, f]) => f.shop > 0 && f.marketplace > 0)!;
    const filter = { lifetimeValue: { min: '0.01' } };
    const { body: calm } = await world.query(LIST, { first: 1000, filter });
    expect(ids(calm)).toContain(victim);
    const { result } = await poisonedRun(mine.buyer, () => world.query(LIST, { first: 1000, filter }));
    expect(ids(result.body)).not.toContain(victim);
    expect(result.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ filter: 'lifetimeValue', source: 'marketplace' }) })]);
  });

  it('counts the verified source’s spend in a lifetime value, as the order summary does', async () => {
    // Until session 41 a commerce source without orderFacts had its spend read as 0 here: every
    // commerce filter ends at the request time (`before`), and a bounded query read its orders
    // without their money, so a customer who bought only on the marketplace had no lifetime value.
    const all: string[] = (await world.gw.oneidDb('idmap_customers').where('status', 'active').orderBy('id').select('id')).map((r: { id: string }) => r.id);
    const value = new Map<string, number>();
    for (let i = 0; i < all.length; i += 200) {
      const { body } = await world.query(`query ($ids: [ID!]!) { customers(ids: $ids) { id orderSummary { lifetimeValue { amount currency } } } }`, {
        ids: all.slice(i, i + 200),
      });
      expect(body.errors).toBeUndefined();
      for (const c of body.data.customers) if (c.orderSummary) value.set(c.id, Number(c.orderSummary.lifetimeValue.amount));
    }
    const onlyMarketplace = [...facts].filter(([c, f]) => f.shop === 0 && f.marketplace > 0 && (value.get(c) ?? 0) > 0).map(([c]) => c);
    expect(onlyMarketplace.length).toBeGreaterThan(2);
    const min = [...onlyMarketplace.map((c) => value.get(c)!)].sort((a, b) => a - b)[Math.floor(onlyMarketplace.length / 2)];
    const { body } = await world.query(LIST, { first: 1000, filter: { lifetimeValue: { min: String(min) } } });
    expect(body.errors).toBeUndefined();
    expect(ids(body)).toEqual(all.filter((c) => (value.get(c) ?? 0) >= min));
    expect(ids(body).filter((c) => onlyMarketplace.includes(c)).length).toBeGreaterThan(0);
  });

  it('decides a last order after an instant the shop’s orders already reach, when no `before` bounds it', async () => {
    const [victim, mine] = [...facts].find(([, f]) => f.shop > 0 && f.marketplace > 0)!;
    const after = mine.shopLast!;
    const run = (lastOrderAt: Record<string, string>) => poisonedRun(mine.buyer, () => world.query(LIST, { first: 1000, filter: { lastOrderAt } }));
    const reached = await run({ after });
    expect(ids(reached.result.body)).toContain(victim);
    // With a `before`, a later marketplace order could fall past it: undecided, named.
    const bounded = await run({ after, before: '2999-01-01T00:00:00Z' });
    expect(ids(bounded.result.body)).not.toContain(victim);
    expect(bounded.result.body.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ filter: 'lastOrderAt', source: 'marketplace' }) })]);
  });
});
