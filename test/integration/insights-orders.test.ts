/**
 * The order system's insight aggregates against a real database (C360_TEST_DB), seeded with
 * hand-written rows: windowed counts and refund counts ride in the summary's one statement,
 * categories are one GROUP BY, and the RFM boundaries are one statement over the whole base.
 */
import { createOrderTables } from '../../demo/schema';
import { isSourceError, type SourceError } from '../../src/errors';
import { CallRecorder } from '../../src/sources/observe';
import { createShopConnector } from '../../src/sources/shop/connector';
import type { ShopConnector as OrdersConnector } from '../../src/sources/shop/types';
import { freshDatabase, type TestDatabase } from '../helpers/db';

const NOW = Date.UTC(2024, 5, 30);
const DAY = 86_400_000;
const ago = (d: number) => NOW - d * DAY;
/** The request time of the calls below: after every seeded row. */
const AS_OF = { now: new Date(NOW).toISOString() };

let t: TestDatabase;
let recorder: CallRecorder;
let shop: OrdersConnector;

function ok<T>(v: T | SourceError | null): T {
  if (v === null) throw new Error('expected a value, got null');
  if (isSourceError(v)) throw new Error(`expected a value, got ${v.message}`);
  return v as T;
}

beforeAll(async () => {
  t = await freshDatabase('orders');
  await createOrderTables(t.db);
  await t
    .db('shop_accounts')
    .insert(
      [1, 2, 3, 4, 5, 6, 7].map((id) => ({ account_id: id, mobile: null, member_no: null, email: null, channel: 'tmall', registered_at: ago(500), updated_at: ago(1) })),
    );
  const order = (id: number, account: number, daysAgo: number, cents: number, status = 'completed') => ({
    order_id: id,
    account_id: account,
    status,
    channel: 'tmall',
    total_cents: cents,
    currency: 'CNY',
    placed_at: ago(daysAgo),
    paid_at: status === 'cancelled' ? null : ago(daysAgo),
  });
  await t.db('orders').insert([
    // Account 1: orders 3, 20, 60 and 200 days ago; a cancelled one yesterday; two refunds on one order.
    order(11, 1, 3, 10000),
    order(12, 1, 20, 20000),
    order(13, 1, 60, 30000, 'refunded'),
    order(14, 1, 200, 40000),
    order(15, 1, 1, 99999, 'cancelled'),
    // Accounts 2..6: one order each, spread over money and time; account 7 has none.
    order(21, 2, 400, 100),
    order(31, 3, 100, 500),
    order(41, 4, 10, 500),
    order(51, 5, 30, 2000),
    order(61, 6, 365, 7000),
  ]);
  await t.db('refunds').insert([
    { refund_id: 1, order_id: 13, amount_cents: 10000, reason: null, refunded_at: ago(50) },
    { refund_id: 2, order_id: 13, amount_cents: 5000, reason: null, refunded_at: ago(40) },
    { refund_id: 3, order_id: 15, amount_cents: 99999, reason: null, refunded_at: ago(1) },
  ]);
  await t.db('order_lines').insert([
    { line_id: 1, order_id: 11, sku: 'a', name: 'a', category: 'food', qty: 2, unit_price_cents: 5000 },
    { line_id: 2, order_id: 12, sku: 'b', name: 'b', category: 'food', qty: 1, unit_price_cents: 10000 },
    { line_id: 3, order_id: 12, sku: 'c', name: 'c', category: 'books', qty: 1, unit_price_cents: 10000 },
    { line_id: 4, order_id: 13, sku: 'd', name: 'd', category: 'food', qty: 3, unit_price_cents: 10000 },
    { line_id: 5, order_id: 13, sku: 'e', name: 'e', category: 'food', qty: 1, unit_price_cents: 0 },
    { line_id: 6, order_id: 14, sku: 'f', name: 'f', category: 'books', qty: 4, unit_price_cents: 10000 },
    // Only on the cancelled order: never counted.
    { line_id: 7, order_id: 15, sku: 'g', name: 'g', category: 'baby', qty: 9, unit_price_cents: 11111 },
  ]);
});

beforeEach(() => {
  recorder = new CallRecorder();
  shop = createShopConnector({ connection: t.connection }, recorder);
});

afterEach(() => shop.close());
afterAll(() => t?.drop());

describe('Orders insights: summary windows', () => {
  it('counts orders per window, refunded orders and gross spend in the same one statement', async () => {
    const [a1, a7] = await shop.orderSummariesByRecordIds(['1', '7'], { now: new Date(NOW).toISOString(), windowDays: [7, 30, 90, 365] });
    expect(ok(a1)).toMatchObject({
      orderCount: 4,
      totalSpent: { amount: '850.00', currency: 'CNY' },
      refundedAmount: { amount: '150.00', currency: 'CNY' },
      grossSpent: { amount: '1000.00', currency: 'CNY' },
      refundedOrderCount: 1,
      recentOrderCounts: [1, 2, 3, 4],
    });
    expect(a7).toBeNull();
    expect(recorder.calls.map((c) => c.operation)).toEqual(['orderSummariesByRecordIds']);
  });

  it('answers the plain summary, without window fields, when asked without a query', async () => {
    const [a1] = await shop.orderSummariesByRecordIds(['1']);
    expect(ok(a1).recentOrderCounts).toBeUndefined();
  });
});

describe('Orders insights: categories', () => {
  it('counts orders containing each category and units, over counted orders only, favourites first', async () => {
    const [a1, a7] = await shop.categoryStatsByRecordIds(['1', '7'], AS_OF);
    expect(a1).toEqual([
      { category: 'food', orders: 3, quantity: 7 },
      { category: 'books', orders: 2, quantity: 5 },
    ]);
    expect(a7).toEqual([]);
    expect(recorder.calls).toHaveLength(1);
  });
});

describe('Orders insights: RFM boundaries', () => {
  it('answers the largest value of quintiles 1..4 of the whole base, in one statement', async () => {
    const b = await shop.rfmBoundaries(AS_OF);
    // Six accounts with counted orders; NTILE(5) makes tiles of 2,1,1,1,1.
    // frequency: 1,1,1,1,1,4 -> tiles [1,1] [1] [1] [1] [4]
    // monetary (net cents): 100, 500, 500, 2000, 7000, 85000
    // recency (last order): 400, 365, 100, 30, 10, 3 days ago
    expect(b).toMatchObject({
      accounts: 6,
      frequency: [1, 1, 1, 1],
      monetary: [500, 500, 2000, 7000],
      recency: [new Date(ago(365)).toISOString(), new Date(ago(100)).toISOString(), new Date(ago(30)).toISOString(), new Date(ago(10)).toISOString()],
      currency: 'CNY',
    });
    expect(recorder.calls).toEqual([{ source: 'orders', operation: 'rfmBoundaries', batchSize: 0 }]);
  });

  it('counts an order dated after the request (a clock ahead) in neither the boundaries nor the category stats, as in no summary figure', async () => {
    // Asked as of 15 days ago: account 1's order of 3 days ago and account 4's of 10 have not happened yet.
    const then = { now: new Date(ago(15)).toISOString() };
    const b = await shop.rfmBoundaries(then);
    // Five accounts (4 has none yet): frequency 3 (account 1), 1, 1, 1, 1; net cents 75000 (1: 20000 + 30000
    // less 15000 + 40000), 100, 500, 2000, 7000; last orders 20, 400, 100, 30, 365 days ago. One tile each.
    expect(b).toMatchObject({
      accounts: 5,
      frequency: [1, 1, 1, 1],
      monetary: [100, 500, 2000, 7000],
      recency: [400, 365, 100, 30].map((d) => new Date(ago(d)).toISOString()),
    });
    const [a1] = await shop.categoryStatsByRecordIds(['1'], then);
    // Orders 12 (food 1, books 1), 13 (food 3 + 1), 14 (books 4); not 11 (food 2, 3 days ago).
    expect(a1).toEqual([
      { category: 'books', orders: 2, quantity: 5 },
      { category: 'food', orders: 2, quantity: 5 },
    ]);
    // The summary as of then says the same of account 1.
    expect(ok((await shop.orderSummariesByRecordIds(['1'], { now: then.now, windowDays: [] }))[0])).toMatchObject({
      orderCount: 3,
      lastOrderAt: new Date(ago(20)).toISOString(),
    });
  });
});

describe('Orders insights: RFM boundaries of a base in two currencies', () => {
  let mixed: TestDatabase;
  let conn: OrdersConnector;

  beforeAll(async () => {
    mixed = await freshDatabase('orders_fx');
    await createOrderTables(mixed.db);
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    await mixed
      .db('shop_accounts')
      .insert(ids.map((id) => ({ account_id: id, mobile: null, member_no: null, email: null, channel: 'tmall', registered_at: ago(500), updated_at: ago(1) })));
    const order = (id: number, account: number, daysAgo: number, cents: number, currency: string, status = 'completed') => ({
      order_id: id,
      account_id: account,
      status,
      channel: 'tmall',
      total_cents: cents,
      currency,
      placed_at: ago(daysAgo),
      paid_at: null,
    });
    await mixed.db('orders').insert([
      // Accounts 1..6 spend 1.00..6.00 yuan, one order each, 1..6 days ago; account 1 also has a cancelled dollar order.
      ...[1, 2, 3, 4, 5, 6].map((a) => order(a, a, a, a * 100, 'CNY')),
      order(10, 1, 1, 99900, 'USD', 'cancelled'),
      // Accounts 7 and 8 spend dollars; account 9 both (its own summary is a row error).
      order(7, 7, 7, 10000, 'USD'),
      order(8, 8, 8, 20000, 'USD'),
      order(9, 9, 9, 50, 'CNY'),
      order(11, 9, 20, 70, 'USD'),
    ]);
  });

  beforeEach(() => {
    conn = createShopConnector({ connection: mixed.connection }, new CallRecorder());
  });
  afterEach(() => conn.close());
  afterAll(() => mixed?.drop());

  it('quintiles money in the currency most accounts spend in, and recency and frequency over every account', async () => {
    const b = await conn.rfmBoundaries(AS_OF);
    // By hand. Nine accounts with counted orders; NTILE(5) over nine makes tiles of 2,2,2,2,1.
    // frequency: 1 ×8 and 2 (account 9) -> [1, 1, 1, 1]
    // recency (last order): 9, 8, …, 1 days ago, ascending -> the 2nd, 4th, 6th and 8th: 8, 6, 4, 2 days ago
    // monetary: yuan (six accounts against two in dollars; account 9 mixes): 100..600 cents, NTILE(5)
    // over six makes tiles of 2,1,1,1,1 -> [200, 300, 400, 500]
    expect(b).toMatchObject({
      accounts: 9,
      frequency: [1, 1, 1, 1],
      recency: [8, 6, 4, 2].map((d) => new Date(ago(d)).toISOString()),
      monetary: [200, 300, 400, 500],
      currency: 'CNY',
    });
  });
});
