/**
 * The orders connector against a real database (C360_TEST_DB) holding the shop's own tables
 * (demo/schema.ts), seeded with hand-written rows in the shop's own formats: integer cents
 * with a per-order currency, unix-millisecond times.
 */
import { createOrderTables } from '../../demo/schema';
import { isSourceError, SourceError } from '../../src/errors';
import { CallRecorder } from '../../src/sources/observe';
import { createShopConnector, type OrderRow, type ShopAccountRow } from '../../src/sources/shop/connector';
import { kind as shopKind } from '../../src/sources/shop';
import type { Order, OrderSummary } from '../../src/capabilities';
import type { ShopConnector as OrdersConnector } from '../../src/sources/shop/types';
import type { ScannedRecord } from '../../src/vocabulary';
import { freshDatabase, itOn, type TestDatabase } from '../helpers/db';
import { lists, readRecords } from '../helpers/source-failure';

const ms = (iso: string) => Date.parse(iso);

function account(id: number, over: Partial<ShopAccountRow> = {}): ShopAccountRow {
  return {
    account_id: id,
    mobile: null,
    member_no: null,
    email: null,
    channel: 'tmall',
    registered_at: ms('2023-01-01T00:00:00Z'),
    updated_at: ms('2024-01-01T00:00:00Z'),
    ...over,
  };
}

function order(id: number, accountId: number, placedAt: string, over: Partial<OrderRow> = {}): OrderRow {
  return {
    order_id: id,
    account_id: accountId,
    status: 'completed',
    channel: 'tmall',
    total_cents: 10000,
    currency: 'CNY',
    placed_at: ms(placedAt),
    paid_at: null,
    ...over,
  };
}

function ok<T>(slot: T | SourceError | null): T {
  if (slot === null) throw new Error('expected a value, got null');
  if (isSourceError(slot)) throw new Error(`expected a value, got ${slot.message}`);
  return slot as T;
}

async function insertChunked(db: TestDatabase['db'], table: string, rows: object[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 200) await db(table).insert(rows.slice(i, i + 200));
}

let t: TestDatabase;
let recorder: CallRecorder;
let shop: OrdersConnector;

beforeAll(async () => {
  t = await freshDatabase('orders');
  await createOrderTables(t.db);
  await t.db('shop_accounts').insert([
    account(1, {
      mobile: '8613800138000',
      email: ' Li.Na@Example.com',
      member_no: 'M00000001',
      channel: 'jd',
      registered_at: 1_700_000_000_123,
      updated_at: 1_709_280_900_000,
    }),
    account(2),
    account(3),
    account(4, { mobile: '12345' }),
    account(5, { registered_at: 0 }),
    account(6),
    account(7),
  ]);
  await t.db('orders').insert([
    // Account 1: two counted orders with refunds, one cancelled order (with a refund that must not count).
    order(101, 1, '2024-01-10T02:00:00Z', { total_cents: 12345, status: 'completed', paid_at: ms('2024-01-10T02:05:00Z') }),
    order(102, 1, '2024-02-10T02:00:00Z', { total_cents: 5000, status: 'cancelled' }),
    order(103, 1, '2024-03-10T02:00:00Z', { total_cents: 2550, status: 'refunded' }),
    // Account 2: only cancelled orders.
    order(201, 2, '2024-01-01T00:00:00Z', { status: 'cancelled' }),
    // Account 3: malformed orders among good ones.
    order(301, 3, '2024-01-01T00:00:00Z', { total_cents: 999 }),
    order(302, 3, '2024-01-02T00:00:00Z', { currency: 'XX' }),
    order(303, 3, '1970-01-01T00:00:00Z'), // placed_at 0
    // Account 6: two currencies.
    order(601, 6, '2024-01-01T00:00:00Z', { currency: 'CNY' }),
    order(602, 6, '2024-01-02T00:00:00Z', { currency: 'USD' }),
    // Account 7: same placed_at; order_id breaks the tie.
    order(701, 7, '2024-05-05T05:05:05Z'),
    order(702, 7, '2024-05-05T05:05:05Z'),
  ]);
  await t.db('order_lines').insert([
    { line_id: 2, order_id: 101, sku: 'SKU-B', name: '保温杯', category: 'home', qty: 1, unit_price_cents: 4345 },
    { line_id: 1, order_id: 101, sku: 'SKU-A', name: 'Tea', category: 'food', qty: 2, unit_price_cents: 4000 },
    { line_id: 3, order_id: 602, sku: 'SKU-C', name: 'Mug', category: 'home', qty: 1, unit_price_cents: 10000 },
    { line_id: 4, order_id: 999, sku: 'SKU-D', name: 'Orphan', category: 'home', qty: 1, unit_price_cents: 100 },
  ]);
  await t.db('refunds').insert([
    { refund_id: 1, order_id: 101, amount_cents: 1000, reason: 'damaged', refunded_at: ms('2024-01-12T00:00:00Z') },
    { refund_id: 2, order_id: 101, amount_cents: 345, reason: null, refunded_at: ms('2024-01-11T00:00:00Z') },
    { refund_id: 3, order_id: 103, amount_cents: 2550, reason: 'returned', refunded_at: ms('2024-03-12T00:00:00Z') },
    { refund_id: 4, order_id: 102, amount_cents: 5000, reason: 'cancelled after payment', refunded_at: ms('2024-02-11T00:00:00Z') },
  ]);
});
afterAll(() => t.drop());

beforeEach(() => {
  recorder = new CallRecorder();
  shop = createShopConnector({ connection: t.connection }, recorder);
});
afterEach(() => shop.close());

describe('Orders connector: accountsByIds', () => {
  it('answers in key order, null for unknown ids, in one call', async () => {
    const answers = await shop.accountsByIds(['2', '404', '1', '2']);
    expect(answers.map((a) => (a && !isSourceError(a) ? a.id : a))).toEqual(['2', null, '1', '2']);
    expect(recorder.of('orders', 'accountsByIds').map((c) => c.batchSize)).toEqual([3]);
  });

  it('answers non-numeric ids as unknown without sending them to SQL', async () => {
    const answers = await shop.accountsByIds(['abc', '007', '1.5', '', ' 1', '99999999999999999999']);
    expect(answers).toEqual([null, null, null, null, null, null]);
    expect(recorder.calls).toEqual([]);
  });

  it('converts the shop formats to the canonical vocabulary', async () => {
    const [a, odd] = await shop.accountsByIds(['1', '4']);
    expect(ok(a)).toEqual({
      id: '1',
      phone: '+8613800138000',
      email: 'li.na@example.com',
      memberNo: 'M00000001',
      channel: 'jd',
      registeredAt: '2023-11-14T22:13:20.123Z',
      updatedAt: '2024-03-01T08:15:00.000Z',
    });
    // An unparseable phone is an absent phone, not a malformed account.
    expect(ok(odd).phone).toBeNull();
  });

  it('answers a malformed account as a SourceError in its slot', async () => {
    const [bad, good] = await shop.accountsByIds(['5', '2']);
    expect(isSourceError(bad) && bad.code).toBe('SOURCE_BAD_RESPONSE');
    expect(ok(good).id).toBe('2');
  });

  it('chunks to maxBatch: 120 ids with maxBatch 50 are 3 calls', async () => {
    const small = createShopConnector({ connection: t.connection, maxBatch: 50 }, recorder);
    try {
      const ids = Array.from({ length: 120 }, (_, i) => String(i + 1));
      const answers = await small.accountsByIds(ids);
      expect(answers.filter((a) => a !== null)).toHaveLength(7);
      expect(
        recorder
          .of('orders', 'accountsByIds')
          .map((c) => c.batchSize)
          .sort((a, b) => b - a),
      ).toEqual([50, 50, 20]);
    } finally {
      await small.close();
    }
  });
});

describe('Orders connector: ordersByRecordIds', () => {
  it('answers each account its orders newest first, [] for unknown, money and times canonical', async () => {
    const [one, none, seven] = lists(await shop.ordersByRecordIds(['1', '404', '7'], {}));
    expect(one.map(ok).map((o) => o.id)).toEqual(['103', '102', '101']);
    expect(ok(one[2])).toEqual<Order>({
      source: 'orders',
      id: '101',
      accountId: '1',
      status: 'completed',
      channel: 'tmall',
      total: { amount: '123.45', currency: 'CNY' },
      placedAt: '2024-01-10T02:00:00.000Z',
      paidAt: '2024-01-10T02:05:00.000Z',
    });
    expect(ok(one[0]).paidAt).toBeNull();
    expect(none).toEqual([]);
    expect(seven.map(ok).map((o) => o.id)).toEqual(['702', '701']);
  });

  it('answers malformed orders as SourceErrors in their list positions; the others answer', async () => {
    const [three] = lists(await shop.ordersByRecordIds(['3'], {}));
    // Newest first: 302 (currency XX), 301 (good), 303 (placed_at 0).
    expect(three).toHaveLength(3);
    expect(isSourceError(three[0]) && three[0].code).toBe('SOURCE_BAD_RESPONSE');
    expect(ok(three[1]).total).toEqual({ amount: '9.99', currency: 'CNY' });
    expect(isSourceError(three[2]) && three[2].code).toBe('SOURCE_BAD_RESPONSE');
  });

  itOn('sqlite')('answers a non-integer total as a malformed order (SQLite keeps the fraction)', async () => {
    await t.db('orders').insert(order(801, 8, '2024-01-01T00:00:00Z', { total_cents: 12.5 }));
    try {
      const [eight] = lists(await shop.ordersByRecordIds(['8'], {}));
      expect(eight).toHaveLength(1);
      expect(isSourceError(eight[0])).toBe(true);
    } finally {
      await t.db('orders').where({ order_id: 801 }).delete();
    }
  });

  it('refuses a since that is not an ISO instant', async () => {
    await expect(shop.ordersByRecordIds(['1'], { since: '2024-01-01' })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argument: 'since' },
    });
  });

  it('refuses a negative or fractional limit, and names the argument of a bad window end', async () => {
    for (const limit of [-1, 2.5]) {
      await expect(shop.ordersByRecordIds(['1'], { limit })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'limit' } });
    }
    const refused = shop.orderFacts!({ since: '2024-01-01T00:00:00Z', before: 'next week' });
    await expect(refused).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'before' } });
    await expect(refused).rejects.toThrow(/^before must be an ISO-8601 instant/);
  });

  describe('with many accounts', () => {
    let m: TestDatabase;
    let many: OrdersConnector;
    const ids = Array.from({ length: 200 }, (_, i) => String(10_000 + i));
    beforeAll(async () => {
      m = await freshDatabase('ordersmany');
      await createOrderTables(m.db);
      const orders: OrderRow[] = [];
      ids.forEach((id, i) => {
        const a = Number(id);
        // Four orders each: Jan, Feb, Mar, Apr 2024, ids ascending with time.
        for (let k = 0; k < 4; k++) orders.push(order(a * 10 + k, a, `2024-0${k + 1}-15T00:00:00Z`, { total_cents: 100 * (i + 1) }));
      });
      await insertChunked(m.db, 'orders', orders);
    });
    afterAll(() => m.drop());
    beforeEach(() => {
      many = createShopConnector({ connection: m.connection }, recorder);
    });
    afterEach(() => many.close());

    it('applies limit per account and since, for 200 accounts in exactly one call', async () => {
      const answers = lists(await many.ordersByRecordIds(ids, { since: '2024-02-15T00:00:00Z', limit: 2 }));
      expect(answers).toHaveLength(200);
      for (const [i, list] of answers.entries()) {
        const a = Number(ids[i]);
        // The two newest of Feb..Apr (Feb is included: since compares at-or-after).
        expect(list.map(ok).map((o) => o.id)).toEqual([String(a * 10 + 3), String(a * 10 + 2)]);
      }
      expect(recorder.of('orders', 'ordersByRecordIds')).toEqual([{ source: 'orders', operation: 'ordersByRecordIds', batchSize: 200 }]);
    });

    it('includes an order placed exactly at since, and a limit larger than the history returns it all', async () => {
      const [first] = lists(await many.ordersByRecordIds([ids[0]], { since: '2024-02-15T00:00:00.000Z', limit: 10 }));
      expect(first.map(ok).map((o) => o.placedAt)).toEqual(['2024-04-15T00:00:00.000Z', '2024-03-15T00:00:00.000Z', '2024-02-15T00:00:00.000Z']);
    });

    it('summarizes 200 accounts in one call', async () => {
      const summaries = await many.orderSummariesByRecordIds(ids);
      expect(summaries.map(ok).map((s) => s.orderCount)).toEqual(ids.map(() => 4));
      expect(ok(summaries[199]).totalSpent).toEqual({ amount: '800.00', currency: 'CNY' });
      expect(recorder.of('orders', 'orderSummariesByRecordIds')).toHaveLength(1);
    });
  });
});

describe('Orders connector: lines and refunds', () => {
  it('answers lines per order in line order, priced in their order currency', async () => {
    const [lines101, none, lines602] = lists(await shop.linesByOrderIds(['101', '404', '602']));
    expect(lines101.map(ok)).toEqual([
      { id: '1', orderId: '101', sku: 'SKU-A', name: 'Tea', category: 'food', quantity: 2, unitPrice: { amount: '40.00', currency: 'CNY' } },
      { id: '2', orderId: '101', sku: 'SKU-B', name: '保温杯', category: 'home', quantity: 1, unitPrice: { amount: '43.45', currency: 'CNY' } },
    ]);
    expect(none).toEqual([]);
    expect(ok(lines602[0]).unitPrice).toEqual({ amount: '100.00', currency: 'USD' });
  });

  it('answers a line whose order is missing (no currency) as a malformed line', async () => {
    const [orphan] = lists(await shop.linesByOrderIds(['999']));
    expect(orphan).toHaveLength(1);
    expect(isSourceError(orphan[0])).toBe(true);
  });

  it('answers refunds per order, oldest first', async () => {
    const [r101, r103, none] = lists(await shop.refundsByOrderIds(['101', '103', '404']));
    expect(r101.map(ok)).toEqual([
      { id: '2', orderId: '101', amount: { amount: '3.45', currency: 'CNY' }, reason: null, refundedAt: '2024-01-11T00:00:00.000Z' },
      { id: '1', orderId: '101', amount: { amount: '10.00', currency: 'CNY' }, reason: 'damaged', refundedAt: '2024-01-12T00:00:00.000Z' },
    ]);
    expect(r103.map(ok).map((r) => r.amount.amount)).toEqual(['25.50']);
    expect(none).toEqual([]);
    expect(recorder.of('orders', 'refundsByOrderIds')).toHaveLength(1);
  });
});

describe('Orders connector: orderSummariesByRecordIds', () => {
  it('matches a hand computation, counting refunds and leaving cancelled orders out', async () => {
    const [one, two, none, unknown] = await shop.orderSummariesByRecordIds(['1', '2', '4', 'x']);
    // Counted: 101 (123.45, refunds 10.00 + 3.45) and 103 (25.50, refunded 25.50); 102 is cancelled.
    expect(ok(one)).toEqual<OrderSummary>({
      accountId: '1',
      orderCount: 2,
      totalSpent: { amount: '110.00', currency: 'CNY' }, // 123.45 + 25.50 - 13.45 - 25.50
      refundedAmount: { amount: '38.95', currency: 'CNY' }, // 13.45 + 25.50
      firstOrderAt: '2024-01-10T02:00:00.000Z',
      lastOrderAt: '2024-03-10T02:00:00.000Z',
    });
    expect(ok(two)).toEqual<OrderSummary>({
      accountId: '2',
      orderCount: 0,
      totalSpent: { amount: '0.00', currency: 'CNY' },
      refundedAmount: { amount: '0.00', currency: 'CNY' },
      firstOrderAt: null,
      lastOrderAt: null,
    });
    expect(none).toBeNull();
    expect(unknown).toBeNull();
    expect(recorder.of('orders', 'orderSummariesByRecordIds')).toEqual([{ source: 'orders', operation: 'orderSummariesByRecordIds', batchSize: 3 }]);
  });

  it('answers numbers as numbers on every engine (no DECIMAL strings)', async () => {
    const one = ok((await shop.orderSummariesByRecordIds(['1']))[0]);
    expect(typeof one.orderCount).toBe('number');
  });

  it('answers a summary over malformed orders or mixed currencies as a SourceError in its slot', async () => {
    const [three, six, one] = await shop.orderSummariesByRecordIds(['3', '6', '1']);
    expect(isSourceError(three) && three.code).toBe('SOURCE_BAD_RESPONSE');
    expect(isSourceError(six) && six.code).toBe('SOURCE_BAD_RESPONSE');
    expect(ok(one).orderCount).toBe(2);
  });
});

describe('Orders connector: currencies without two decimals', () => {
  // Shops store an integer count of the currency's minor unit (ISO 4217), as Stripe and Shopify do:
  // 1500 is ¥1,500 (the yen has no minor unit) and 12345 is 12.345 KWD (the dinar has 1000 fils).
  it('reads yen and dinars in their own minor units, through orders, refunds and the summary', async () => {
    await t
      .db('orders')
      .insert([
        order(901, 9, '2024-06-01T00:00:00Z', { total_cents: 1500, currency: 'JPY' }),
        order(902, 9, '2024-06-02T00:00:00Z', { total_cents: 800, currency: 'JPY' }),
        order(1001, 10, '2024-06-01T00:00:00Z', { total_cents: 12345, currency: 'KWD' }),
      ]);
    await t.db('refunds').insert({ refund_id: 901, order_id: 901, amount_cents: 300, reason: null, refunded_at: ms('2024-06-03T00:00:00Z') });
    try {
      const [nine, ten] = lists(await shop.ordersByRecordIds(['9', '10'], {}));
      expect(nine.map((o) => ok(o).total)).toEqual([
        { amount: '800', currency: 'JPY' },
        { amount: '1500', currency: 'JPY' },
      ]);
      expect(ten.map((o) => ok(o).total)).toEqual([{ amount: '12.345', currency: 'KWD' }]);
      const [refunds] = lists(await shop.refundsByOrderIds(['901']));
      expect(refunds.map((r) => ok(r).amount)).toEqual([{ amount: '300', currency: 'JPY' }]);
      const [s9, s10] = await shop.orderSummariesByRecordIds(['9', '10']);
      expect(ok(s9)).toMatchObject({ orderCount: 2, totalSpent: { amount: '2000', currency: 'JPY' }, refundedAmount: { amount: '300', currency: 'JPY' } });
      expect(ok(s10)).toMatchObject({ orderCount: 1, totalSpent: { amount: '12.345', currency: 'KWD' } });
    } finally {
      await t.db('refunds').where({ refund_id: 901 }).del();
      await t.db('orders').whereIn('order_id', [901, 902, 1001]).del();
    }
  });

  it('answers an order, its lines and refunds in a code ISO 4217 does not assign as row errors, never money with a guessed minor unit', async () => {
    // Satoshis in a bitcoin column: as two decimals, 123456789 would have read 1234567.89 XBT.
    await t.db('orders').insert(order(1201, 12, '2024-06-01T00:00:00Z', { total_cents: 123456789, currency: 'XBT' }));
    await t.db('refunds').insert({ refund_id: 1201, order_id: 1201, amount_cents: 100, reason: null, refunded_at: ms('2024-06-03T00:00:00Z') });
    try {
      const [twelve] = lists(await shop.ordersByRecordIds(['12'], {}));
      expect(twelve.map((o) => isSourceError(o) && [o.code, o.message])).toEqual([['SOURCE_BAD_RESPONSE', expect.stringContaining('total_cents or currency is not money')]]);
      const [refunds] = lists(await shop.refundsByOrderIds(['1201']));
      expect(refunds.map((r) => isSourceError(r) && r.code)).toEqual(['SOURCE_BAD_RESPONSE']);
      const [summary] = await shop.orderSummariesByRecordIds(['12']);
      expect(isSourceError(summary) && summary.code).toBe('SOURCE_BAD_RESPONSE');
    } finally {
      await t.db('refunds').where({ refund_id: 1201 }).del();
      await t.db('orders').where({ order_id: 1201 }).del();
    }
  });

  it('answers an order whose times are unix seconds, not milliseconds, as a row error instead of an order of January 1970', async () => {
    await t.db('orders').insert(order(1301, 13, '2024-06-01T00:00:00Z', { placed_at: 1_717_200_000 }));
    await t.db('orders').insert(order(1302, 13, '2024-06-02T00:00:00Z'));
    try {
      const [thirteen] = lists(await shop.ordersByRecordIds(['13'], {}));
      expect(thirteen.map((o) => (isSourceError(o) ? o.message : ok(o).placedAt))).toEqual([
        '2024-06-02T00:00:00.000Z',
        expect.stringContaining('placed_at is not a unix-millisecond time'),
      ]);
    } finally {
      await t.db('orders').whereIn('order_id', [1301, 1302]).del();
    }
  });

  it('never counts a negative refund or order total as money the customer spent: row errors, and no base-wide figure over them', async () => {
    // A ledger that writes refunds with a minus sign: subtracted, -30.00 would have raised the customer's spend by 30.00.
    await t.db('orders').insert(order(1401, 14, '2024-06-01T00:00:00Z', { total_cents: 10000 }));
    await t.db('refunds').insert({ refund_id: 1401, order_id: 1401, amount_cents: -3000, reason: null, refunded_at: ms('2024-06-03T00:00:00Z') });
    try {
      const [refunds] = lists(await shop.refundsByOrderIds(['1401']));
      expect(refunds.map((r) => isSourceError(r) && [r.code, r.message])).toEqual([
        ['SOURCE_BAD_RESPONSE', expect.stringContaining('amount_cents is a negative order total or refund')],
      ]);
      const [fourteen, one] = await shop.orderSummariesByRecordIds(['14', '1']);
      expect(isSourceError(fourteen) && [fourteen.code, fourteen.message]).toEqual(['SOURCE_BAD_RESPONSE', expect.stringContaining('negative order total or refund')]);
      expect(ok(one).orderCount).toBe(2);
      await expect(shop.orderFacts!({})).rejects.toMatchObject({
        code: 'SOURCE_BAD_RESPONSE',
        message: expect.stringContaining('1 order(s) with a negative order total or refund'),
      });
      await expect(shop.rfmBoundaries!({ now: new Date().toISOString() })).rejects.toMatchObject({
        code: 'SOURCE_BAD_RESPONSE',
        message: expect.stringContaining('1 order(s) with a negative'),
      });
      // A negative order total is refused alike.
      await t.db('refunds').where({ refund_id: 1401 }).del();
      await t.db('orders').where({ order_id: 1401 }).update({ total_cents: -10000 });
      const [orders] = lists(await shop.ordersByRecordIds(['14'], {}));
      expect(orders.map((o) => isSourceError(o) && o.message)).toEqual([expect.stringContaining('total_cents is a negative order total or refund')]);
      const [again] = await shop.orderSummariesByRecordIds(['14']);
      expect(isSourceError(again) && again.code).toBe('SOURCE_BAD_RESPONSE');
      await expect(shop.rfmBoundaries!({ now: new Date().toISOString() })).rejects.toMatchObject({ code: 'SOURCE_BAD_RESPONSE' });
    } finally {
      await t.db('refunds').where({ refund_id: 1401 }).del();
      await t.db('orders').where({ order_id: 1401 }).del();
    }
    // Without them, the base answers again.
    expect((await shop.orderFacts!({})).length).toBeGreaterThan(0);
  });

  it('reads a currency code stored in lower case (as Stripe stores it) as its ISO 4217 code', async () => {
    await t.db('orders').insert(order(1101, 11, '2024-06-01T00:00:00Z', { total_cents: 1999, currency: 'usd' }));
    try {
      const [eleven] = lists(await shop.ordersByRecordIds(['11'], {}));
      expect(eleven.map((o) => ok(o).total)).toEqual([{ amount: '19.99', currency: 'USD' }]);
    } finally {
      await t.db('orders').where({ order_id: 1101 }).del();
    }
  });
});

describe('Orders connector: scan', () => {
  let s: TestDatabase;
  let feed: OrdersConnector;
  /** Times a second apart in January 2024, in the shop's unix milliseconds. */
  const T = ms('2024-01-01T00:00:00Z');
  beforeAll(async () => {
    s = await freshDatabase('ordersscan');
    await createOrderTables(s.db);
    await s.db('shop_accounts').insert([
      account(30, { mobile: '8613800138000', email: 'A@X.com', member_no: 'M00000030', updated_at: T + 1_000 }),
      // Two accounts updated in the same millisecond: the id breaks the tie.
      account(10, { updated_at: T + 2_000 }),
      account(20, { mobile: '13800138001', updated_at: T + 2_000 }),
      account(40, { updated_at: T + 3_000 }),
    ]);
  });
  afterAll(() => s.drop());
  beforeEach(() => {
    feed = createShopConnector({ connection: s.connection }, recorder);
  });
  afterEach(() => feed.close());

  it('pages through every account exactly once, in (updated_at, id) order, with raw identifiers', async () => {
    const seen: ScannedRecord[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page = await feed.scan(cursor, 2);
      seen.push(...page.records);
      cursor = page.cursor;
      if (page.done) break;
    }
    expect(seen.map((r) => r.recordId)).toEqual(['30', '10', '20', '40']);
    expect(seen[0]).toEqual<ScannedRecord>({
      source: 'orders',
      recordId: '30',
      updatedAt: '2024-01-01T00:00:01.000Z',
      identifiers: [
        { kind: 'PHONE', value: '8613800138000' },
        { kind: 'EMAIL', value: 'A@X.com' },
        { kind: 'MEMBER_NO', value: 'M00000030' },
      ],
    });
    // 2 + 2 + an empty final page.
    expect(recorder.of('orders', 'scan')).toHaveLength(3);
  });

  it('resumes from a cursor and picks up an account updated after it', async () => {
    const first = await feed.scan(null, 2);
    const second = await feed.scan(first.cursor, 10);
    expect(second.records.map((r) => r.recordId)).toEqual(['20', '40']);
    expect(second.done).toBe(true);

    await s
      .db('shop_accounts')
      .where({ account_id: 10 })
      .update({ email: 'new@x.com', updated_at: T + 4_000 });
    const third = await feed.scan(second.cursor, 10);
    expect(third.records.map((r) => [r.recordId, r.identifiers])).toEqual([['10', [{ kind: 'EMAIL', value: 'new@x.com' }]]]);
  });

  it('scanRecords answers the same view for named accounts, null for unknown or non-numeric ids', async () => {
    const [a, unknown, bad] = readRecords(await feed.scanRecords(['20', '404', 'abc']));
    expect(a?.identifiers).toEqual([{ kind: 'PHONE', value: '13800138001' }]);
    expect(unknown).toBeNull();
    expect(bad).toBeNull();
  });
});

describe('Orders connector: an unreachable order system', () => {
  it('answers SOURCE_UNAVAILABLE, then fails fast once the breaker opens', async () => {
    const dead = createShopConnector(
      { connection: { client: 'sqlite', filename: `/nonexistent-c360-dir-${process.pid}/shop.sqlite` }, breaker: { failureThreshold: 1 } },
      recorder,
    );
    try {
      await expect(dead.orderSummariesByRecordIds(['1'])).rejects.toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
      const fast = await dead.ordersByRecordIds(['1'], { limit: 5 }).catch((e) => e);
      expect(fast).toMatchObject({ code: 'SOURCE_UNAVAILABLE', sourceName: 'orders' });
      expect(fast.message).toContain('circuit open');
    } finally {
      await dead.close();
    }
  });

  it('health answers when the order system does', async () => {
    await expect(shop.health()).resolves.toBeUndefined();
  });
});

describe('Shop connector: a chunk whose statement fails', () => {
  // A shop whose `orders` is a view reading placed_at through abs(score): account 4's order has
  // the smallest BIGINT as its score, which overflows on both engines, so the statement of the
  // chunk holding account 4 fails while the other chunks' statements answer.
  const ACCOUNTS = ['1', '2', '3', '4', '5'];
  let poisoned: TestDatabase;

  beforeAll(async () => {
    poisoned = await freshDatabase('orderschunk');
    await createOrderTables(poisoned.db);
    await poisoned.db.schema.renameTable('orders', 'order_rows');
    await poisoned.db.schema.alterTable('order_rows', (tb) => tb.bigInteger('score').notNullable().defaultTo(1));
    await poisoned.db('order_rows').insert(ACCOUNTS.map((a) => order(Number(a) * 100 + 1, Number(a), '2024-01-10T02:00:00Z')));
    await poisoned.db.raw('update order_rows set score = -9223372036854775808 where account_id = 4');
    await poisoned.db.raw(
      'create view orders as select order_id, account_id, status, channel, total_cents, currency, case when abs(score) >= 0 then placed_at end as placed_at, paid_at from order_rows',
    );
  });
  afterAll(async () => {
    await poisoned.db.raw('drop view orders');
    await poisoned.drop();
  });

  it("answers the failed chunk's accounts its coded error in place of their orders, the others their orders, one statement per chunk", async () => {
    const calls = new CallRecorder();
    const small = createShopConnector({ connection: poisoned.connection, maxBatch: 2 }, calls);
    try {
      const answers = await small.ordersByRecordIds(ACCOUNTS, {});
      // Chunks of two: [1 2] [3 4] [5]; the second fails as a whole.
      expect(answers.map((a) => (isSourceError(a) ? a.code : a.map((o) => (isSourceError(o) ? o.code : o.id))))).toEqual([
        ['101'],
        ['201'],
        'SOURCE_BAD_RESPONSE',
        'SOURCE_BAD_RESPONSE',
        ['501'],
      ]);
      expect(answers[2]).toMatchObject({ sourceName: 'orders' });
      expect(calls.of('orders', 'ordersByRecordIds').map((c) => c.batchSize)).toEqual([2, 2, 1]);
    } finally {
      await small.close();
    }
  });
});

describe('Orders connector: a shop that writes refunds negative (refundSign: "negative")', () => {
  // A ledger's sign: money returned written as -30.00. Its mapping says so, and every figure reads the magnitude.
  let neg: TestDatabase;
  beforeAll(async () => {
    neg = await freshDatabase('ordersneg');
    await createOrderTables(neg.db);
    await neg.db('shop_accounts').insert([account(1), account(2)]);
    await neg
      .db('orders')
      .insert([
        order(101, 1, '2024-01-10T00:00:00Z', { total_cents: 15000 }),
        order(102, 1, '2024-02-10T00:00:00Z', { total_cents: 5000 }),
        order(201, 2, '2024-03-10T00:00:00Z'),
      ]);
    await neg.db('refunds').insert([
      { refund_id: 1, order_id: 101, amount_cents: -3000, reason: 'damaged', refunded_at: ms('2024-01-12T00:00:00Z') },
      { refund_id: 2, order_id: 102, amount_cents: -500, reason: null, refunded_at: ms('2024-02-12T00:00:00Z') },
    ]);
  });
  afterAll(() => neg.drop());

  it('reads each refund as the money returned, in refunds, summaries, events and the base-wide figures', async () => {
    const ledger = createShopConnector({ connection: neg.connection, refundSign: 'negative' }, recorder);
    try {
      const [first] = lists(await ledger.refundsByOrderIds(['101']));
      expect(first.map((r) => ok(r).amount)).toEqual([{ amount: '30.00', currency: 'CNY' }]);
      const [one] = await ledger.orderSummariesByRecordIds(['1']);
      expect(ok(one)).toMatchObject({ orderCount: 2, totalSpent: { amount: '165.00' }, refundedAmount: { amount: '35.00' } });
      const [events] = lists(await ledger.eventsByRecordIds(['1'], { limit: 10, after: null, since: null, kinds: ['order_refunded'] }));
      expect(events.map((e) => ok(e).amount)).toEqual([
        { amount: '5.00', currency: 'CNY' },
        { amount: '30.00', currency: 'CNY' },
      ]);
      const facts = await ledger.orderFacts!({});
      // The first and last order too, as the summary has them (BI stages a lifecycle from them).
      expect(facts.find((f) => f.recordId === '1')).toMatchObject({ orders: 2, spentCents: 16500, firstOrderAt: ok(one).firstOrderAt, lastOrderAt: ok(one).lastOrderAt });
      expect(ok(one).firstOrderAt).toBe('2024-01-10T00:00:00.000Z');
      expect((await ledger.rfmBoundaries!({ now: new Date().toISOString() })).accounts).toBe(2);
      // A refund of the other sign in such a table is the broken row now.
      await neg.db('refunds').insert({ refund_id: 3, order_id: 201, amount_cents: 700, reason: null, refunded_at: ms('2024-03-12T00:00:00Z') });
      const [positive] = lists(await ledger.refundsByOrderIds(['201']));
      expect(positive.map((r) => isSourceError(r) && r.code)).toEqual(['SOURCE_BAD_RESPONSE']);
      await expect(ledger.orderFacts!({})).rejects.toMatchObject({ code: 'SOURCE_BAD_RESPONSE' });
    } finally {
      await neg.db('refunds').where({ refund_id: 3 }).del();
      await ledger.close();
    }
  });

  it('is a kind option, positive unless said', () => {
    expect(shopKind.options.parse({ connection: neg.connection }).refundSign).toBe('positive');
    expect(shopKind.options.parse({ connection: neg.connection, refundSign: 'negative' }).refundSign).toBe('negative');
    expect(shopKind.options.safeParse({ connection: neg.connection, refundSign: 'minus' }).success).toBe(false);
  });
});
