/**
 * A shop that has just opened: three accounts with counted orders, written here by hand over a
 * small generated world (its own orders wiped). NTILE(5) over three accounts makes three tiles
 * of one account each, so the quintile boundaries are the accounts' own values, and every
 * figure below is computed by hand from the rows this file writes, not by the gateway's code.
 * The gateway first reads the base while it is still empty: the orders that follow are scored
 * at once, not once the boundary cache's TTL (ten minutes) has run out. One order is dated ten
 * days after the request (a clock ahead, a bad row): it counts in no figure, the quintiles
 * included.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startTestWorld, type TestWorld } from '../helpers/world';

const DAY = 86_400_000;
const LIFECYCLE = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/lifecycle.json'), 'utf8'));

let world: TestWorld;
/** The three customers whose one shop account each holds the orders below. */
let a: string, b: string, c: string;

const RFM = `query ($ids: [ID!]!) { customers(ids: $ids) { id
  rfm { recencyDays frequency monetary { amount currency } r f m score segment }
  orderSummary { orderCount lifetimeValue { amount } averageOrderValue { amount } ordersLast30Days ordersLast90Days ordersLast365Days refundRate }
  lifecycle { stage daysSinceLastOrder }
} }`;

function segmentFor(r: number, f: number, m: number): string {
  const inRange = (range: number[] | undefined, v: number) => !range || (v >= range[0] && v <= range[1]);
  return LIFECYCLE.rfm.segments.find((s: { r?: number[]; f?: number[]; m?: number[] }) => inRange(s.r, r) && inRange(s.f, f) && inRange(s.m, m)).name;
}

beforeAll(async () => {
  world = await startTestWorld({ people: 40, seed: 5, demoSystems: false });
  // Customers with exactly one shop account: theirs are the only accounts with orders.
  const rows: Array<{ customer_id: string; record_id: string }> = await world.gw
    .oneidDb('idmap_source_records')
    .where({ source: 'orders' })
    .select('customer_id', 'record_id');
  const perCustomer = new Map<string, string[]>();
  for (const r of rows) perCustomer.set(r.customer_id, [...(perCustomer.get(r.customer_id) ?? []), String(r.record_id)]);
  const single = [...perCustomer].filter(([, ids]) => ids.length === 1).sort(([x], [y]) => (x < y ? -1 : 1));
  expect(single.length).toBeGreaterThanOrEqual(3);
  [a, b, c] = single.slice(0, 3).map(([id]) => id);
  const [accA, accB, accC] = single.slice(0, 3).map(([, ids]) => Number(ids[0]));
  const db = world.dbs.orders.db;
  for (const t of ['refunds', 'order_lines', 'orders']) await db(t).del();
  // The shop before its first order: nobody has an RFM, and the gateway has read the empty base.
  const before = await world.query(RFM, { ids: [a, b, c] });
  expect(before.body.errors).toBeUndefined();
  expect(before.body.data.customers.map((x: { rfm: unknown }) => x.rfm)).toEqual([null, null, null]);
  const now = Date.now();
  const order = (id: number, account: number, daysAgo: number, cents: number, status = 'completed') => ({
    order_id: id,
    account_id: account,
    status,
    channel: 'tmall',
    total_cents: cents,
    currency: 'CNY',
    placed_at: now - daysAgo * DAY,
    paid_at: status === 'cancelled' ? null : now - daysAgo * DAY,
  });
  await db('orders').insert([
    // A: 100.00 three days ago, 50.00 ten days ago refunded 20.00 in part.
    order(1, accA, 3, 10000),
    order(2, accA, 10, 5000),
    // B: 10.00 forty days ago.
    order(3, accB, 40, 1000),
    // C: 300.00 two hundred days ago, and a cancelled 999.00 yesterday that counts nowhere.
    order(4, accC, 200, 30000),
    order(5, accC, 1, 99900, 'cancelled'),
    // B again: 500.00 of garden goods dated ten days after the request, which counts nowhere yet.
    order(6, accB, -10, 50000),
  ]);
  await db('order_lines').insert([{ line_id: 1, order_id: 6, sku: 'g1', name: 'spade', category: 'garden', qty: 2, unit_price_cents: 25000 }]);
  await db('refunds').insert([{ refund_id: 1, order_id: 2, amount_cents: 2000, reason: 'size', refunded_at: now - 9 * DAY }]);
});

afterAll(async () => world?.close());

describe('Insights over a base of fewer than five accounts', () => {
  it('scores RFM against the accounts themselves instead of failing', async () => {
    const { body } = await world.query(RFM, { ids: [a, b, c] });
    expect(body.errors).toBeUndefined();
    // By hand: frequency 2, 1, 1; net cents 13000, 1000, 30000; last orders 3, 40, 200 days ago.
    // Boundaries (each account's value): f [1, 1, 2], m [1000, 13000, 30000], recency [200, 40, 3] days ago.
    // (Counting B's order dated ahead would make them f [1, 2, 2], m [13000, 30000, 51000] and
    // recency [200, 3, -10] days ago: A would score r 2, f 2, m 1.)
    const want = [
      { id: a, r: 3, f: 3, m: 2, days: 3, frequency: 2, amount: '130.00' },
      { id: b, r: 2, f: 1, m: 1, days: 40, frequency: 1, amount: '10.00' },
      { id: c, r: 1, f: 1, m: 3, days: 200, frequency: 1, amount: '300.00' },
    ];
    expect(body.data.customers.map((x: { id: string; rfm: unknown }) => ({ id: x.id, rfm: x.rfm }))).toEqual(
      want.map((w) => ({
        id: w.id,
        rfm: {
          recencyDays: w.days,
          frequency: w.frequency,
          monetary: { amount: w.amount, currency: 'CNY' },
          r: w.r,
          f: w.f,
          m: w.m,
          score: `${w.r}${w.f}${w.m}`,
          segment: segmentFor(w.r, w.f, w.m),
        },
      })),
    );
  });

  it('answers the order summary and lifecycle from the same rows', async () => {
    const { body } = await world.query(RFM, { ids: [a, b, c] });
    expect(body.errors).toBeUndefined();
    const [sa, sb, sc] = body.data.customers;
    // A: gross 150.00 over 2 orders = 75.00; one of two orders refunded; both within 30 days.
    expect(sa.orderSummary).toEqual({
      orderCount: 2,
      lifetimeValue: { amount: '130.00' },
      averageOrderValue: { amount: '75.00' },
      ordersLast30Days: 2,
      ordersLast90Days: 2,
      ordersLast365Days: 2,
      refundRate: 0.5,
    });
    expect(sb.orderSummary).toMatchObject({ orderCount: 1, ordersLast30Days: 0, ordersLast90Days: 1, refundRate: 0 });
    expect(sc.orderSummary).toMatchObject({ orderCount: 1, lifetimeValue: { amount: '300.00' }, ordersLast30Days: 0, ordersLast90Days: 0, ordersLast365Days: 1 });
    // config/lifecycle.json: new within 30 days of the first order, active 90, at risk 180.
    expect([sa.lifecycle, sb.lifecycle, sc.lifecycle]).toEqual([
      { stage: 'NEW', daysSinceLastOrder: 3 },
      { stage: 'ACTIVE', daysSinceLastOrder: 40 },
      { stage: 'CHURNED', daysSinceLastOrder: 200 },
    ]);
  });

  it('lists no category of an order dated after the request among the favourites', async () => {
    const { body } = await world.query(`query ($ids: [ID!]!) { customers(ids: $ids) { orderSummary { orderCount favouriteCategories { category orders quantity } } } }`, {
      ids: [b],
    });
    expect(body.errors).toBeUndefined();
    // B's only order before the request has no lines; the garden line is on the order dated ahead.
    expect(body.data.customers[0].orderSummary).toEqual({ orderCount: 1, favouriteCategories: [] });
  });
});
