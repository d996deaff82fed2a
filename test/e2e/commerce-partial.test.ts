/**
 * What a business user reads when the figures span two commerce sources (the shop and the
 * marketplace, each behind its own system) and one of them is down, or holds an order dated
 * ahead of the request. The marketplace is reached through a pass-through on 127.0.0.1 that a
 * test can point at a closed port (the system down: connection refused) and back.
 *
 * The RFM tests run first and in order: they need the gateway's first computation of the RFM
 * boundaries to happen while the marketplace is down.
 */
import { startPassThrough, type PassThrough } from '../helpers/http-pass-through';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { startTestWorld, type TestWorld } from '../helpers/world';

const DAY = 86_400_000;
/** A port nothing listens on: the marketplace "down". */
const CLOSED = 'http://127.0.0.1:1';

let world: TestWorld;
let marketplace: PassThrough;
let marketplaceUrl = '';
let down = false;
/** Customers with shop accounts and no marketplace record, by id, with their shop account ids. */
const shopOnly = new Map<string, number[]>();

/** The demo's rules with one tag rule on the RFM segment (the demo has none), and one on the order count. */
function rulesWithRfmTag(): string {
  const dir = tempDir('commerce-partial-rules');
  const demo = path.resolve(__dirname, '../../config');
  for (const f of ['lifecycle.json', 'survivorship.json']) fs.copyFileSync(path.join(demo, f), path.join(dir, f));
  const tags = JSON.parse(fs.readFileSync(path.join(demo, 'tags.json'), 'utf8'));
  tags.tags.push(
    { id: 'champion', tag: 'champion', description: 'In the champions RFM segment.', when: { rfmSegment: { in: ['champions'] } } },
    { id: 'repeat-buyer', tag: 'repeat_buyer', description: 'Ordered at least once.', when: { orderCount: { atLeast: 1 } } },
  );
  fs.writeFileSync(path.join(dir, 'tags.json'), JSON.stringify(tags));
  return dir;
}

beforeAll(async () => {
  const rulesDir = rulesWithRfmTag();
  marketplace = await startPassThrough(
    () => (down ? CLOSED : marketplaceUrl),
    () => undefined,
  );
  world = await startTestWorld({
    people: 300,
    seed: 17,
    configPatch: (raw) => {
      const m = raw.sources.find((s: { name: string }) => s.name === 'marketplace');
      marketplaceUrl = m.baseUrl;
      m.baseUrl = marketplace.url;
      // Every failure is seen as it happens: no retry, and a breaker that does not open in this file.
      m.retries = 0;
      m.breaker = { failureThreshold: 1000 };
      raw.insights = { ...raw.insights, rulesDir };
    },
  });
  const rows: Array<{ customer_id: string; source: string; record_id: string }> = await world.gw
    .oneidDb('idmap_source_records')
    .whereIn('source', ['orders', 'marketplace'])
    .whereNotNull('customer_id')
    .select('customer_id', 'source', 'record_id');
  const inMarketplace = new Set(rows.filter((r) => r.source === 'marketplace').map((r) => r.customer_id));
  for (const r of rows)
    if (r.source === 'orders' && !inMarketplace.has(r.customer_id)) shopOnly.set(r.customer_id, [...(shopOnly.get(r.customer_id) ?? []), Number(r.record_id)]);
});

afterAll(async () => {
  await world?.close();
  await marketplace?.close();
});

/** Calls the connectors made to `source` for `operation` since the last reset. */
const callsTo = (source: string, operation: string) => world.calls.of(source, operation).length;

describe('RFM with a commerce source down at the first computation of the boundaries', () => {
  const Q = `query ($id: ID!) { customer(id: $id) { orderSummary { orderCount } lifecycle { stage } rfm { segment boundariesComputedAt } } }`;
  let id: string;
  let noCommerce: string;

  beforeAll(async () => {
    // A customer with counted orders in the shop alone: nothing of theirs lives in the marketplace.
    const counted: Array<{ account_id: number }> = await world.dbs.orders.db('orders').whereNot('status', 'cancelled').distinct('account_id');
    const buyers = new Set(counted.map((r) => Number(r.account_id)));
    id = [...shopOnly].find(([, accounts]) => accounts.some((a) => buyers.has(a)))![0];
    const commerce = new Set(
      (await world.gw.oneidDb('idmap_source_records').whereIn('source', ['orders', 'marketplace']).whereNotNull('customer_id').distinct('customer_id')).map(
        (r: { customer_id: string }) => r.customer_id,
      ),
    );
    const active: Array<{ id: string }> = await world.gw.oneidDb('idmap_customers').where('status', 'active').orderBy('id').select('id');
    noCommerce = active.find((c) => !commerce.has(c.id))!.id;
  });

  it('answers what needs only the shop, and RFM (quintiles over both bases) as the marketplace’s coded error', async () => {
    down = true;
    world.reset();
    // Beside the shop customer, one without any commerce account: no RFM, whatever the base.
    const { body } = await world.query(
      `query ($ids: [ID!]!) { customers(ids: $ids) { id orderSummary { orderCount } lifecycle { stage } rfm { segment boundariesComputedAt } } }`,
      { ids: [id, noCommerce] },
    );
    const [shop, none] = body.data.customers;
    expect(shop.orderSummary.orderCount).toBeGreaterThan(0);
    expect(shop.lifecycle.stage).toEqual(expect.any(String));
    expect(shop.rfm).toBeNull();
    expect([none.orderSummary, none.rfm]).toEqual([null, null]);
    expect(body.errors).toEqual([
      expect.objectContaining({ path: ['customers', 0, 'rfm'], extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'marketplace' }) }),
    ]);
    expect(callsTo('orders', 'rfmBoundaries')).toBe(1);
    expect(callsTo('marketplace', 'rfmBoundaries')).toBeGreaterThan(0);
  });

  it('does not read the shop’s whole base again on every request while the marketplace stays down', async () => {
    world.reset();
    const { body } = await world.query(Q, { id });
    expect(body.data.customer.rfm).toBeNull();
    expect(body.errors[0].extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'marketplace' });
    expect(callsTo('orders', 'rfmBoundaries')).toBe(0);
    expect(callsTo('marketplace', 'rfmBoundaries')).toBeGreaterThan(0);
  });

  it('answers the tags it can decide while the base cannot be read, and names the rfmSegment rule it could not', async () => {
    const TAGS = `query ($id: ID!) { customer(id: $id) { tags { name rule } } }`;
    const { body } = await world.query(TAGS, { id });
    const tags = body.data.customer.tags as Array<{ name: string; rule: string }>;
    // The rule on the order count holds (the customer has counted orders); the one on the segment is unknown.
    expect(tags).toContainEqual({ name: 'repeat_buyer', rule: 'repeat-buyer' });
    expect(tags.map((t) => t.rule)).not.toContain('champion');
    expect(body.errors).toEqual([
      expect.objectContaining({
        path: ['customer', 'tags'],
        extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'marketplace', rules: ['champion'] }),
      }),
    ]);
  });

  it('scores against both bases as soon as the marketplace answers, asking only the marketplace', async () => {
    down = false;
    world.reset();
    const { body } = await world.query(Q, { id });
    expect(body.errors).toBeUndefined();
    expect(body.data.customer.rfm).toEqual({ segment: expect.any(String), boundariesComputedAt: expect.any(String) });
    expect(callsTo('orders', 'rfmBoundaries')).toBe(0);
    expect(callsTo('marketplace', 'rfmBoundaries')).toBeGreaterThan(0);
    // The whole is kept now: the next request asks neither base.
    world.reset();
    expect((await world.query(Q, { id })).body.data.customer.rfm).toEqual(body.data.customer.rfm);
    expect(callsTo('orders', 'rfmBoundaries') + callsTo('marketplace', 'rfmBoundaries')).toBe(0);
  });
});

describe('BI orders.withinDays: the last N days end now', () => {
  const LIST = `query ($filter: CustomerFilter) { customersConnection(first: 1000, filter: $filter) { edges { node { id orderSummary { ordersLast30Days } } } pageInfo { hasNextPage } } }`;
  let id: string;

  beforeAll(async () => {
    down = false;
    // A shop customer with no order in the last 30 days gets one dated ten days ahead (a clock ahead, a bad row).
    const db = world.dbs.orders.db;
    const recent = new Set(
      (
        await db('orders')
          .where('placed_at', '>=', Date.now() - 40 * DAY)
          .distinct('account_id')
      ).map((r: { account_id: number }) => Number(r.account_id)),
    );
    const [customer, accounts] = [...shopOnly].find(([, a]) => a.every((x) => !recent.has(x)))!;
    id = customer;
    const { max } = (await db('orders').max('order_id as max').first()) as { max: number };
    const ahead = Date.now() + 10 * DAY;
    await db('orders').insert({
      order_id: Number(max) + 1,
      account_id: accounts[0],
      status: 'completed',
      channel: 'tmall',
      total_cents: 9900,
      currency: 'CNY',
      placed_at: ahead,
      paid_at: ahead,
    });
  });

  it('does not count an order dated after the request as one of the last 30 days, as ordersLast30Days does not', async () => {
    world.reset();
    const { body } = await world.query(LIST, { filter: { orders: { withinDays: 30 } } });
    expect(body.errors).toBeUndefined();
    const listed = body.data.customersConnection.edges.map((e: { node: { id: string; orderSummary: { ordersLast30Days: number } } }) => e.node);
    expect(body.data.customersConnection.pageInfo.hasNextPage).toBe(false);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.map((c: { id: string }) => c.id)).not.toContain(id);
    // Every customer listed has an order in its own summary's 30-day window, and the window is the same one.
    expect(listed.filter((c: { orderSummary: { ordersLast30Days: number } }) => c.orderSummary.ordersLast30Days < 1)).toEqual([]);
    // One pushdown statement to the shop, as before.
    expect(callsTo('orders', 'orderFacts')).toBe(1);
  });

  it('counts the order dated ahead in none of the customer’s figures: orderCount, lifetime value, lifecycle and RFM speak of the same orders', async () => {
    const { body } = await world.query(
      `query ($id: ID!) { customer(id: $id) { orderSummary { orderCount lifetimeValue { amount } lastOrderAt ordersLast30Days } lifecycle { stage reason daysSinceLastOrder } rfm { recencyDays frequency } } }`,
      { id },
    );
    expect(body.errors).toBeUndefined();
    const accounts = shopOnly.get(id)!;
    const now = Date.now();
    const before = (await world.dbs.orders
      .db('orders')
      .whereIn('account_id', accounts)
      .whereNot('status', 'cancelled')
      .where('placed_at', '<=', now)
      .select('order_id', 'placed_at', 'total_cents')) as Array<{ order_id: number; placed_at: number; total_cents: number }>;
    const refunds = (await world.dbs.orders
      .db('refunds')
      .whereIn(
        'order_id',
        before.map((o) => o.order_id),
      )
      .select('amount_cents')) as Array<{ amount_cents: number }>;
    const netCents = before.reduce((n, o) => n + Number(o.total_cents), 0) - refunds.reduce((n, r) => n + Number(r.amount_cents), 0);
    const c = body.data.customer;
    // The customer's orders before the request: none in the last 40 days (how they were chosen).
    expect(c.orderSummary.orderCount).toBe(before.length);
    expect(c.orderSummary.ordersLast30Days).toBe(0);
    expect(Math.round(Number(c.orderSummary.lifetimeValue.amount) * 100)).toBe(netCents);
    expect(Date.parse(c.orderSummary.lastOrderAt)).toBe(Math.max(...before.map((o) => Number(o.placed_at))));
    expect(c.lifecycle.daysSinceLastOrder).toBeGreaterThanOrEqual(40);
    expect(c.lifecycle.stage).not.toBe('NEW');
    expect(c.rfm).toEqual({ recencyDays: c.lifecycle.daysSinceLastOrder, frequency: before.length });
  });

  it('lists the customer under no filter by the order dated ahead: an explicit `since`, the lifetime value, the last order', async () => {
    const listed = async (filter: unknown) => {
      const { body } = await world.query(LIST, { filter });
      expect(body.errors).toBeUndefined();
      return body.data.customersConnection.edges.map((e: { node: { id: string } }) => e.node.id) as string[];
    };
    const { body } = await world.query(`query ($id: ID!) { customer(id: $id) { orderSummary { lifetimeValue { amount } lastOrderAt } } }`, { id });
    const { lifetimeValue, lastOrderAt } = body.data.customer.orderSummary;
    const cents = Math.round(Number(lifetimeValue.amount) * 100);
    // Each filter is checked on both sides of the customer's own figures, so the customer is in the base each reads.
    expect(await listed({ orders: { since: new Date(Date.now() - DAY).toISOString() } })).not.toContain(id);
    expect(await listed({ lifetimeValue: { currency: 'CNY', min: ((cents + 1) / 100).toFixed(2) } })).not.toContain(id);
    expect(await listed({ lifetimeValue: { currency: 'CNY', min: lifetimeValue.amount, max: lifetimeValue.amount } })).toContain(id);
    expect(await listed({ lastOrderAt: { after: new Date(Date.parse(lastOrderAt) + 1).toISOString() } })).not.toContain(id);
    expect(await listed({ lastOrderAt: { after: lastOrderAt } })).toContain(id);
  });
});
