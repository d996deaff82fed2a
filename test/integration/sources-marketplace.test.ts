/**
 * Marketplace source kind against the stand-in TOP router: real HTTP on 127.0.0.1, real SQLite.
 */
import knexFactory, { type Knex } from 'knex';
import { createMarketplaceTables } from '../../demo/systems/marketplace/schema';
import { startMarketplaceServer, type MarketplaceServer } from '../../demo/systems/marketplace/server';
import { kind, type MarketplaceConnector, type MarketplaceBuyer } from '../../src/sources/marketplace';
import { failure, lists, readRecords } from '../helpers/source-failure';
import { rawRequest, UNPARSABLE_TARGETS } from '../helpers/raw-http';
import { CallRecorder } from '../../src/sources/observe';
import { normalizePhone } from '../../src/canonical';
import type { KindContext } from '../../src/sources/kind';
import type { SourceEvent } from '../../src/vocabulary';
import type { OrderSummary } from '../../src/capabilities';
import type { IdMapReader } from '../../src/idmap/types';
import { createLoaders } from '../../src/loaders';
import { registryOf } from '../../src/sources/registry';
import type { TimelinePosition } from '../../src/timeline/merge';
import { timelinePage } from '../../src/timeline/page';

const CREDS = { appKey: '23456789', appSecret: 'test-top-secret', session: 'seller-session-1' };
const T0 = Date.UTC(2024, 0, 10, 2, 0, 0); // 2024-01-10 10:00:00 in Shanghai
const H = 3_600_000;
const D = 24 * H;

const B1 = 'AAbuyerMember01'; // member, real phone
const B2 = 'AAbuyerBusy0002'; // 120 trades: two pages
const B3 = 'AAbuyerVirtual3'; // "member" whose mobile is a virtual number
const B4 = 'AAbuyerMasked04'; // "member" whose mobile is masked
const B5 = 'AAbuyerNoMemb05'; // plain buyer, plain receiver phone

const buyer = (b: Record<string, unknown>) => ({
  buyer_nick: 't**1',
  grade: 0,
  trade_count: 0,
  trade_amount: '0.00',
  first_trade_time: T0,
  last_trade_time: T0,
  join_time: null,
  mobile: null,
  relation_source: 1,
  ...b,
});
const buyers = [
  buyer({ buyer_open_uid: B1, buyer_nick: '王**芳', grade: 2, join_time: T0 + 5 * D, mobile: '13800138000', relation_source: 3, modified: T0 + 20 * D }),
  buyer({ buyer_open_uid: B2, modified: T0 + 20 * D }),
  buyer({ buyer_open_uid: B3, grade: 1, join_time: T0, mobile: '17012345678-5678', relation_source: 3, modified: T0 + 21 * D }),
  buyer({ buyer_open_uid: B4, grade: 1, join_time: T0, mobile: '138****8000', relation_source: 3, modified: T0 + 21 * D }),
  buyer({ buyer_open_uid: B5, modified: T0 + 22 * D }),
];

const trade = (t: Record<string, unknown>): Record<string, any> => ({
  post_fee: '0.00',
  pay_time: null,
  end_time: null,
  receiver_name: '王**',
  receiver_mobile: '17012345678-1234',
  ...t,
});
const line = (l: Record<string, unknown>) => ({ outer_sku_id: 'SKU', cid: 16, num: 1, refund_id: null, refund_status: 'NO_REFUND', ...l });

const trades = [
  // B1: finished two-line trade; closed after a full refund; closed unpaid; finished with a partial refund.
  trade({
    tid: '300000000000001',
    buyer_open_uid: B1,
    status: 'TRADE_FINISHED',
    payment: '162.00',
    total_fee: '180.00',
    created: T0,
    pay_time: T0 + 60_000,
    end_time: T0 + 5 * D,
    modified: T0 + 5 * D,
  }),
  trade({
    tid: '300000000000002',
    buyer_open_uid: B1,
    status: 'TRADE_CLOSED',
    payment: '99.90',
    total_fee: '99.90',
    created: T0 + D,
    pay_time: T0 + D + 30_000,
    modified: T0 + 8 * D,
    receiver_mobile: '138****8000',
  }),
  trade({ tid: '300000000000003', buyer_open_uid: B1, status: 'TRADE_CLOSED_BY_TAOBAO', payment: '50.00', total_fee: '50.00', created: T0 + 2 * D, modified: T0 + 3 * D }),
  trade({
    tid: '300000000000004',
    buyer_open_uid: B1,
    status: 'TRADE_FINISHED',
    payment: '200.05',
    total_fee: '200.05',
    created: T0 + 10 * D,
    pay_time: T0 + 10 * D + 1000,
    modified: T0 + 20 * D,
  }),
  trade({
    tid: '300000000000005',
    buyer_open_uid: B5,
    status: 'WAIT_SELLER_SEND_GOODS',
    payment: '19.90',
    total_fee: '19.90',
    created: T0 + 3 * D,
    pay_time: T0 + 3 * D + 5000,
    modified: T0 + 3 * D,
    receiver_mobile: '13900139000',
  }),
  trade({
    tid: '300000000000006',
    buyer_open_uid: B3,
    status: 'WAIT_BUYER_CONFIRM_GOODS',
    payment: '10.00',
    total_fee: '10.00',
    created: T0 + 4 * D,
    pay_time: T0 + 4 * D + 5000,
    modified: T0 + 4 * D,
  }),
  trade({ tid: '300000000000007', buyer_open_uid: B4, status: 'WAIT_BUYER_PAY', payment: '30.00', total_fee: '30.00', created: T0 + 5 * D, modified: T0 + 5 * D }),
  ...Array.from({ length: 120 }, (_, i) =>
    trade({
      tid: String(310000000000000 + i),
      buyer_open_uid: B2,
      status: 'TRADE_FINISHED',
      payment: `${i + 1}.01`,
      total_fee: `${i + 1}.01`,
      created: T0 + i * H,
      pay_time: T0 + i * H + 1000,
      modified: T0 + i * H + 2000,
    }),
  ),
];
const lines = [
  line({ oid: '4000000000000011', tid: '300000000000001', title: 'T恤', cid: 16, num: 2, price: '45.00', total_fee: '100.00', payment: '90.00' }),
  line({ oid: '4000000000000012', tid: '300000000000001', title: '三体', cid: 33, num: 1, price: '72.00', total_fee: '80.00', payment: '72.00' }),
  line({
    oid: '4000000000000021',
    tid: '300000000000002',
    title: '面膜',
    cid: 1801,
    num: 1,
    price: '99.90',
    total_fee: '99.90',
    payment: '99.90',
    refund_id: '5000000000000021',
    refund_status: 'SUCCESS',
  }),
  line({ oid: '4000000000000031', tid: '300000000000003', title: '咖啡', cid: 50002766, num: 1, price: '50.00', total_fee: '50.00', payment: '50.00' }),
  line({
    oid: '4000000000000041',
    tid: '300000000000004',
    title: '耳机',
    cid: 50008090,
    num: 1,
    price: '200.05',
    total_fee: '200.05',
    payment: '200.05',
    refund_id: '5000000000000041',
    refund_status: 'SUCCESS',
  }),
  line({ oid: '4000000000000051', tid: '300000000000005', title: '数据线', cid: 50008090, num: 1, price: '19.90', total_fee: '19.90', payment: '19.90' }),
];
const refunds = [
  {
    refund_id: '5000000000000021',
    tid: '300000000000002',
    oid: '4000000000000021',
    buyer_open_uid: B1,
    refund_fee: '99.90',
    reason: '七天无理由退换货',
    status: 'SUCCESS',
    created: T0 + 7 * D,
    modified: T0 + 8 * D,
  },
  {
    refund_id: '5000000000000041',
    tid: '300000000000004',
    oid: '4000000000000041',
    buyer_open_uid: B1,
    refund_fee: '50.02',
    reason: null,
    status: 'SUCCESS',
    created: T0 + 19 * D,
    modified: T0 + 20 * D,
  },
  // Refused: never counts.
  {
    refund_id: '5000000000000042',
    tid: '300000000000004',
    oid: '4000000000000041',
    buyer_open_uid: B1,
    refund_fee: '10.00',
    reason: '少件/漏发',
    status: 'SELLER_REFUSE_BUYER',
    created: T0 + 12 * D,
    modified: T0 + 13 * D,
  },
];

const CATEGORIES = { '16': 'apparel', '33': 'books', '1801': 'beauty', '50008090': 'electronics', '50002766': 'food' };

let db: Knex;
let server: MarketplaceServer;
let recorder: CallRecorder;
let tmall: MarketplaceConnector;

function connect(name = 'shop_tmall', over: Record<string, unknown> = {}): MarketplaceConnector {
  return kind.create(name, kind.options.parse({ baseUrl: server.url, ...CREDS, timeoutMs: 20_000, retries: 0, categories: CATEGORIES, ...over }), recorder);
}

const iso = (ms: number) => new Date(ms).toISOString();
/** A request time after every trade and refund of the seeded rows. */
const LATER = { now: iso(T0 + 30 * D) };
const ok = <T>(x: T | null): Exclude<T, Error> => {
  if (x instanceof Error || x == null) throw new Error(`expected a value, got ${String(x)}`);
  return x as Exclude<T, Error>;
};

beforeAll(async () => {
  db = knexFactory({ client: 'better-sqlite3', connection: { filename: ':memory:' }, useNullAsDefault: true });
  await createMarketplaceTables(db);
  await db('tb_buyers').insert(buyers);
  for (let i = 0; i < trades.length; i += 50) await db('tb_trades').insert(trades.slice(i, i + 50));
  await db('tb_orders').insert(lines);
  await db('tb_refunds').insert(refunds);
  server = await startMarketplaceServer({ db, ...CREDS });
});

afterAll(async () => {
  await server.close();
  await db.destroy();
});

beforeEach(() => {
  recorder = new CallRecorder();
  tmall = connect();
});

describe('Marketplace source: buyers', () => {
  it('loads buyers in chunks of maxBatch, one call each, answering in key order with null for unknown ids', async () => {
    const unknown = Array.from({ length: 21 }, (_, i) => `AAunknown${String(i).padStart(4, '0')}`);
    const ids = [B1, ...unknown, B5, 'bad id!', B3];
    const answer = await tmall.buyersByIds(ids);
    expect(recorder.of('shop_tmall', 'buyersByIds').map((c) => c.batchSize)).toEqual([20, 4]);
    expect(answer).toHaveLength(ids.length);
    const b1 = ok(answer[0]) as MarketplaceBuyer;
    expect(b1).toMatchObject({ source: 'shop_tmall', id: B1, nick: '王**芳', phone: '+8613800138000', channel: 'tmall', grade: 2, memberSince: iso(T0 + 5 * D) });
    expect(answer.slice(1, 22).every((x) => x === null)).toBe(true);
    expect(ok(answer[22])).toMatchObject({ id: B5, phone: null });
    expect(answer[23]).toBeNull();
    // A member whose mobile is a virtual number keeps no phone.
    expect(ok(answer[24])).toMatchObject({ id: B3, phone: null });
  });
});

describe("Marketplace source: a buyer's grade and trade count as TOP may write them", () => {
  // Session 41 found both read without a word: `Number("")` made an empty grade 0 (a "buyer only"
  // grade nobody gave), and a trade count that is no number became null beside a valid buyer.
  const B6 = 'AAbuyerEmptyG06';
  const B7 = 'AAbuyerBadCnt07';
  const B8 = 'AAbuyerDigits08';
  beforeAll(async () => {
    await db('tb_buyers').insert([
      buyer({ buyer_open_uid: B6, grade: '', trade_count: '', modified: T0 + 23 * D }),
      buyer({ buyer_open_uid: B7, trade_count: 'n/a', modified: T0 + 23 * D }),
      buyer({ buyer_open_uid: B8, grade: '3', trade_count: '12', modified: T0 + 23 * D }),
    ]);
  });
  afterAll(async () => {
    await db('tb_buyers').whereIn('buyer_open_uid', [B6, B7, B8]).delete();
  });

  it('reads an empty grade and trade count as not given (null), never as 0', async () => {
    const [b6] = await tmall.buyersByIds([B6]);
    expect(ok(b6)).toMatchObject({ id: B6, grade: null, tradeCount: null });
  });

  it('answers a trade count that is no whole number as a row error in its slot; the buyers beside it stand', async () => {
    const [b7, b8] = await tmall.buyersByIds([B7, B8]);
    expect(b7 instanceof Error && [(b7 as { code?: string }).code, b7.message]).toEqual([
      'SOURCE_BAD_RESPONSE',
      'shop_tmall returned a malformed buyer: trade_count is not a whole number',
    ]);
    // Decimal digits are TOP's way of writing a number too.
    expect(ok(b8)).toMatchObject({ id: B8, grade: 3, tradeCount: 12 });
  });
});

describe('Marketplace source: orders', () => {
  it('reads trades as canonical orders: exact money, UTC instants, mapped statuses, the instance as source', async () => {
    const [orders] = lists(await tmall.ordersByBuyerIds([B1], {}));
    expect(orders.map((o) => ok(o).id)).toEqual(['300000000000004', '300000000000003', '300000000000002', '300000000000001']);
    expect(orders.map((o) => ok(o).status)).toEqual(['completed', 'cancelled', 'refunded', 'completed']);
    expect(ok(orders[3])).toEqual({
      source: 'shop_tmall',
      id: '300000000000001',
      accountId: B1,
      status: 'completed',
      channel: 'tmall',
      total: { amount: '162.00', currency: 'CNY' },
      placedAt: '2024-01-10T02:00:00.000Z',
      paidAt: '2024-01-10T02:01:00.000Z',
    });
    expect(ok(orders[1]).paidAt).toBeNull();
  });

  it('pages through a buyer with more than 100 trades, one call per page, and applies since and limit', async () => {
    const [all] = lists(await tmall.ordersByBuyerIds([B2], {}));
    expect(all).toHaveLength(120);
    expect(recorder.of('shop_tmall', 'ordersByBuyerIds')).toHaveLength(2);
    recorder.reset();
    const [recent] = lists(await tmall.ordersByBuyerIds([B2], { since: iso(T0 + 100 * H), limit: 5 }));
    expect(recent.map((o) => ok(o).placedAt)).toEqual([119, 118, 117, 116, 115].map((i) => iso(T0 + i * H)));
    expect(recorder.of('shop_tmall', 'ordersByBuyerIds')).toHaveLength(1);
  });

  it('answers lines and successful refunds by order id, one call per chunk', async () => {
    const [l1, lNone] = lists(await tmall.linesByOrderIds(['300000000000001', '399999999999999']));
    expect(recorder.of('shop_tmall', 'linesByOrderIds')).toHaveLength(1);
    expect(l1).toEqual([
      { id: '4000000000000011', orderId: '300000000000001', sku: 'SKU', name: 'T恤', category: 'apparel', quantity: 2, unitPrice: { amount: '45.00', currency: 'CNY' } },
      { id: '4000000000000012', orderId: '300000000000001', sku: 'SKU', name: '三体', category: 'books', quantity: 1, unitPrice: { amount: '72.00', currency: 'CNY' } },
    ]);
    expect(lNone).toEqual([]);
    const [r4, r1] = lists(await tmall.refundsByOrderIds(['300000000000004', '300000000000001']));
    expect(recorder.of('shop_tmall', 'refundsByOrderIds')).toHaveLength(1);
    expect(r4).toEqual([{ id: '5000000000000041', orderId: '300000000000004', amount: { amount: '50.02', currency: 'CNY' }, reason: null, refundedAt: iso(T0 + 20 * D) }]);
    expect(r1).toEqual([]);
  });

  it('refuses a shop currency ISO 4217 does not assign at configuration, naming the key', () => {
    const parsed = kind.options.safeParse({ baseUrl: server.url, ...CREDS, currency: 'RMB' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['currency', 'an ISO 4217 code such as CNY']]);
    expect(kind.options.parse({ baseUrl: server.url, ...CREDS, currency: 'KWD' }).currency).toBe('KWD');
  });

  it('writes a shop in yen with the yen’s digits, and refuses an amount with fractions of a yen rather than rounding it', async () => {
    const yen = connect('shop_jp', { currency: 'JPY' });
    const [orders] = lists(await yen.ordersByBuyerIds([B1], {}));
    // 162.00 is ¥162; 99.90 and 200.05 are no amounts in yen: those trades are row errors in their slots.
    expect(orders.filter((o) => !(o instanceof Error)).map((o) => [ok(o).id, ok(o).total])).toEqual([
      ['300000000000003', { amount: '50', currency: 'JPY' }],
      ['300000000000001', { amount: '162', currency: 'JPY' }],
    ]);
    expect(orders.filter((o) => o instanceof Error).map((e) => (e as Error).message)).toEqual([
      expect.stringContaining('payment is not an amount in the shop currency'),
      expect.stringContaining('payment is not an amount in the shop currency'),
    ]);
    const [[line]] = lists(await yen.linesByOrderIds(['300000000000001']));
    expect(ok(line).unitPrice).toEqual({ amount: '45', currency: 'JPY' });
    const [[refund]] = lists(await yen.refundsByOrderIds(['300000000000004']));
    expect(refund instanceof Error && [refund.message.includes('refund_fee is not an amount'), (refund as { code?: string }).code]).toEqual([true, 'SOURCE_BAD_RESPONSE']);
  });
});

describe('Marketplace source: computed aggregates', () => {
  /** The summary computed straight from the seeded rows, in cents: trades not cancelled and placed by `now`. */
  function expected(buyerId: string, now: number, windows: number[]) {
    const counted = trades.filter((t) => t.buyer_open_uid === buyerId && t.status !== 'TRADE_CLOSED_BY_TAOBAO' && Number(t.created) <= now);
    const cents = (y: unknown) => Math.round(Number(y) * 100);
    const refundedOf = (tid: unknown) => refunds.filter((r) => r.tid === tid && r.status === 'SUCCESS').reduce((s, r) => s + cents(r.refund_fee), 0);
    const gross = counted.reduce((s, t) => s + cents(t.payment), 0);
    const refunded = counted.reduce((s, t) => s + refundedOf(t.tid), 0);
    const placed = counted.map((t) => Number(t.created));
    const money = (c: number) => ({ amount: (c / 100).toFixed(2), currency: 'CNY' });
    return {
      accountId: buyerId,
      orderCount: counted.length,
      totalSpent: money(gross - refunded),
      refundedAmount: money(refunded),
      grossSpent: money(gross),
      firstOrderAt: iso(Math.min(...placed)),
      lastOrderAt: iso(Math.max(...placed)),
      refundedOrderCount: counted.filter((t) => refundedOf(t.tid) > 0).length,
      recentOrderCounts: windows.map((w) => placed.filter((p) => p >= now - w * D && p <= now).length),
    };
  }

  it('computes order summaries equal to a computation over the seeded rows', async () => {
    const now = T0 + 12 * D;
    const query = { now: iso(now), windowDays: [3, 30] };
    const answer = await tmall.orderSummariesByBuyerIds([B1, B2, 'AAnobody00000', B5], query);
    expect(answer[0]).toEqual(expected(B1, now, [3, 30]));
    expect(answer[1]).toEqual(expected(B2, now, [3, 30]));
    expect(answer[2]).toBeNull();
    expect(answer[3]).toEqual(expected(B5, now, [3, 30]));
    // One trades listing and one refunds listing for the four buyers (B2's second trades page is a third call).
    expect(recorder.of('shop_tmall', 'orderSummariesByBuyerIds')).toHaveLength(3);
  });

  it('answers order facts that agree with the summaries: counted trades, net spend, first and last order (BI reads RFM and lifecycle stages from them)', async () => {
    const now = T0 + 12 * D;
    const facts = await tmall.orderFacts({ before: iso(now + 1) });
    const summaries = await tmall.orderSummariesByBuyerIds([B1, B2, B5], { now: iso(now), windowDays: [] });
    [B1, B2, B5].forEach((id, i) => {
      const s = summaries[i] as OrderSummary;
      const net = Math.round(Number(s.totalSpent.amount) * 100);
      expect(facts.find((f) => f.recordId === id)).toEqual({
        recordId: id,
        orders: s.orderCount,
        spentCents: net,
        currency: s.totalSpent.currency,
        firstOrderAt: s.firstOrderAt,
        lastOrderAt: s.lastOrderAt,
      });
    });
  });

  it('does not count a trade dated after the request (a clock ahead) in any figure of the summary, nor its refunds', async () => {
    // B1's fourth trade is placed at T0 + 10 days, with two refunds; at T0 + 5 days it has not happened yet.
    const now = T0 + 5 * D;
    const calls = recorder.of('shop_tmall', 'orderSummariesByBuyerIds').length;
    const [b1] = await tmall.orderSummariesByBuyerIds([B1], { now: iso(now), windowDays: [3, 30] });
    expect(b1).toEqual(expected(B1, now, [3, 30]));
    expect(b1).toMatchObject({ orderCount: 2, refundedAmount: { amount: '99.90' }, lastOrderAt: iso(T0 + D), refundedOrderCount: 1 });
    // The same calls as any summary: one trades listing and one refunds listing.
    expect(recorder.of('shop_tmall', 'orderSummariesByBuyerIds').length - calls).toBe(2);
  });

  it('refuses a window end that is not an ISO instant, naming it, before any call to the platform', async () => {
    const before = recorder.of('shop_tmall', 'orderFacts').length;
    const refused = tmall.orderFacts({ since: iso(T0), before: 'next week' });
    await expect(refused).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', argument: 'before' } });
    expect(recorder.of('shop_tmall', 'orderFacts')).toHaveLength(before);
  });

  it('counts purchases per category over counted trades, most orders first', async () => {
    const [stats] = lists(await tmall.categoryStatsByBuyerIds([B1], LATER));
    expect(stats).toEqual([
      { category: 'apparel', orders: 1, quantity: 2 },
      { category: 'beauty', orders: 1, quantity: 1 },
      { category: 'books', orders: 1, quantity: 1 },
      { category: 'electronics', orders: 1, quantity: 1 },
    ]);
  });

  it('computes RFM quintile boundaries over the whole base as NTILE(5) does', async () => {
    const rfm = await tmall.rfmBoundaries(LATER);
    // Counted buyers: B1 (3 trades), B2 (120), B3 (1), B4 (1, unpaid but not cancelled), B5 (1): five, one per tile.
    expect(rfm.accounts).toBe(5);
    expect(rfm.frequency).toEqual([1, 1, 1, 3]);
    const net = [16200 + 0 + 20005 - 5002, Array.from({ length: 120 }, (_, i) => (i + 1) * 100 + 1).reduce((a, b) => a + b, 0), 1000, 3000, 1990].sort((a, b) => a - b);
    expect(rfm.monetary).toEqual(net.slice(0, 4));
    const recency = [T0 + 10 * D, T0 + 119 * H, T0 + 4 * D, T0 + 5 * D, T0 + 3 * D].sort((a, b) => a - b).map(iso);
    expect(rfm.recency).toEqual(recency.slice(0, 4));
    expect(rfm.currency).toBe('CNY');
  });

  it('counts a trade dated after the request (a clock ahead) in neither the category stats nor the RFM boundaries, as in no summary figure', async () => {
    // At T0 + 5 days, B1's fourth trade (T0 + 10 days: one electronics line, 200.05 less 50.02 refunded) has not happened yet.
    const then = { now: iso(T0 + 5 * D) };
    const [stats] = lists(await tmall.categoryStatsByBuyerIds([B1], then));
    expect(stats).toEqual([
      { category: 'apparel', orders: 1, quantity: 2 },
      { category: 'beauty', orders: 1, quantity: 1 },
      { category: 'books', orders: 1, quantity: 1 },
    ]);
    const rfm = await tmall.rfmBoundaries(then);
    // B1 as of then: 2 counted trades, the last at T0 + 1 day, net 162.00 (the second refunded in full).
    expect(rfm.accounts).toBe(5);
    expect(rfm.frequency).toEqual([1, 1, 1, 2]);
    expect(rfm.monetary).toEqual([1000, 1990, 3000, 16200]);
    expect(rfm.recency).toEqual([T0 + D, T0 + 3 * D, T0 + 4 * D, T0 + 119 * H].map(iso));
    // The summary of that time says the same of B1.
    const [b1] = await tmall.orderSummariesByBuyerIds([B1], { now: then.now, windowDays: [] });
    expect(b1).toMatchObject({ orderCount: 2, totalSpent: { amount: '162.00' }, lastOrderAt: iso(T0 + D) });
  });
});

describe('Marketplace source: events', () => {
  it('pages a buyer timeline with no skip and no repeat across pages', async () => {
    const q = { after: null, since: null, kinds: null, limit: 1000 };
    const [all] = lists(await tmall.eventsByBuyerIds([B1], q));
    const events = all.map((e) => ok(e) as SourceEvent);
    // 4 placed, 3 paid, 2 successful refunds (the refused one is not an event).
    expect(events.map((e) => e.kind).sort()).toEqual([
      'order_paid',
      'order_paid',
      'order_paid',
      'order_placed',
      'order_placed',
      'order_placed',
      'order_placed',
      'order_refunded',
      'order_refunded',
    ]);
    expect(events[0]).toMatchObject({
      kind: 'order_refunded',
      id: '5000000000000041',
      refId: '300000000000004',
      at: iso(T0 + 20 * D),
      amount: { amount: '50.02', currency: 'CNY' },
    });
    const paged: SourceEvent[] = [];
    let after = null;
    for (let guard = 0; guard < 20; guard++) {
      const [page] = lists(await tmall.eventsByBuyerIds([B1], { ...q, after, limit: 2 }));
      if (page.length === 0) break;
      paged.push(...page.map((e) => ok(e) as SourceEvent));
      const last = paged[paged.length - 1];
      after = { at: last.at, kind: last.kind, id: last.id };
    }
    expect(paged).toEqual(events);
    const [onlyRefunds] = lists(await tmall.eventsByBuyerIds([B1], { ...q, kinds: ['order_refunded'], since: iso(T0 + 10 * D) }));
    expect(onlyRefunds.map((e) => ok(e).id)).toEqual(['5000000000000041']);
  });
});

describe('Marketplace source: figures over the whole base with a row it cannot read', () => {
  // Each case adds one row the stand-in serves as TOP does but no amount spells, for a buyer already in the base.
  const cases: Array<[string, 'tb_refunds' | 'tb_trades', Record<string, unknown>, string]> = [
    [
      'a SUCCESS refund of B1’s fourth trade (left out, it would overstate B1’s net spend)',
      'tb_refunds',
      { ...refunds[1], refund_id: '5000000000000043', refund_fee: 'n/a' },
      'refund_id',
    ],
    [
      'a finished trade of B5 (left out, B5 would have one order fewer)',
      'tb_trades',
      trade({ tid: '300000000000099', buyer_open_uid: B5, status: 'TRADE_FINISHED', payment: 'n/a', total_fee: 'n/a', created: T0 + 6 * D, modified: T0 + 6 * D }),
      'tid',
    ],
    [
      'a SUCCESS refund of B1’s fourth trade written with a minus sign (subtracted, it would raise B1’s net spend by 30.00)',
      'tb_refunds',
      { ...refunds[1], refund_id: '5000000000000044', refund_fee: '-30.00' },
      'refund_id',
    ],
    [
      'a finished trade of B5 with a negative payment (counted, B5 would have one order more and 100.00 less)',
      'tb_trades',
      trade({ tid: '300000000000098', buyer_open_uid: B5, status: 'TRADE_FINISHED', payment: '-100.00', total_fee: '-100.00', created: T0 + 6 * D, modified: T0 + 6 * D }),
      'tid',
    ],
  ];

  it.each(cases)('answers orderFacts and rfmBoundaries as SOURCE_BAD_RESPONSE, not figures without %s', async (_, table, row, key) => {
    await db(table).insert(row);
    try {
      const bad = { extensions: { code: 'SOURCE_BAD_RESPONSE', source: 'shop_tmall' } };
      await expect(tmall.orderFacts({})).rejects.toMatchObject(bad);
      await expect(tmall.rfmBoundaries(LATER)).rejects.toMatchObject(bad);
      // One whole-base read (a trades and a refunds listing, B2's 120 trades on a second page), kept: the second figure asked nothing.
      expect(recorder.of('shop_tmall', 'orderFacts')).toHaveLength(3);
      expect(recorder.of('shop_tmall', 'rfmBoundaries')).toHaveLength(0);
      // The buyers the bad row does not touch still answer their own figures.
      const [b3] = await tmall.orderSummariesByBuyerIds([B3], { now: iso(T0 + 30 * D), windowDays: [30] });
      expect(ok(b3).orderCount).toBe(1);
    } finally {
      await db(table)
        .where(key, row[key] as string)
        .delete();
    }
  });
});

describe('Marketplace source: a timeline past a trade it cannot read', () => {
  const BX = 'AAbuyerBadTrade1';
  const rows = [
    trade({ tid: '300000000000091', buyer_open_uid: BX, status: 'TRADE_FINISHED', payment: '10.00', total_fee: '10.00', created: T0, pay_time: T0 + 1000, modified: T0 }),
    trade({
      tid: '300000000000092',
      buyer_open_uid: BX,
      status: 'TRADE_FINISHED',
      payment: '20.00',
      total_fee: '20.00',
      created: T0 + D,
      pay_time: T0 + D + 1000,
      modified: T0 + D,
    }),
    // A payment no amount spells: the trade has no place in the event order.
    trade({ tid: '300000000000093', buyer_open_uid: BX, status: 'TRADE_FINISHED', payment: 'n/a', total_fee: 'n/a', created: T0 + 2 * D, modified: T0 + 2 * D }),
  ];
  /** By hand: the two readable trades' payments (a second after placing) and placings, newest first. */
  const GOOD = ['order_paid:300000000000092', 'order_placed:300000000000092', 'order_paid:300000000000091', 'order_placed:300000000000091'];

  beforeAll(async () => {
    await db('tb_trades').insert(rows);
  });
  afterAll(async () => {
    await db('tb_trades')
      .whereIn(
        'tid',
        rows.map((r) => r.tid as string),
      )
      .delete();
  });

  it.each([1, 2, 3, 4, 10])('pages of %i give every readable event once, each page some, and the unreadable trade as a gap', async (first) => {
    const idmap = {
      sourceRecordsByCustomerIds: async (ids: readonly string[]) =>
        ids.map((id) => [{ customerId: id, source: 'shop_tmall', recordId: BX, linkedAt: iso(T0), sourceUpdatedAt: null }]),
    } as unknown as IdMapReader;
    const registry = registryOf([{ name: 'shop_tmall', kind: 'marketplace', connector: tmall }]);
    const seen: string[] = [];
    const sizes: number[] = [];
    let after: TimelinePosition | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const page = await timelinePage(createLoaders({ idmap, registry }), 'cust', { first, after, since: null, kinds: null });
      expect(page.gaps.map((g) => [g.source, g.code])).toEqual([['shop_tmall', 'SOURCE_BAD_RESPONSE']]);
      seen.push(...page.events.map((e) => `${e.kind}:${e.id}`));
      sizes.push(page.events.length);
      if (!page.hasNextPage) break;
      after = page.events[page.events.length - 1];
    }
    expect(seen).toEqual(GOOD);
    // The unreadable trade takes no page's place: no page comes back empty after one that said more follow.
    expect(sizes).toEqual(Array.from({ length: Math.ceil(GOOD.length / first) }, (_, i) => Math.min(first, GOOD.length - i * first)));
  });
});

describe('Marketplace source: identity feed', () => {
  it('streams every buyer once across pages, resumes from a cursor, and picks up later changes', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    const cursors: string[] = [];
    for (let guard = 0; guard < 20; guard++) {
      const page = await tmall.scan(cursor, 2);
      seen.push(...page.records.map((r) => r.recordId));
      cursor = page.cursor;
      if (cursor) cursors.push(cursor);
      if (page.done) break;
    }
    expect([...seen].sort()).toEqual([B1, B2, B3, B4, B5].sort());
    // A new connector resumes from the first page's cursor without repeating its records.
    const resumed = connect();
    const rest: string[] = [];
    let c: string | null = cursors[0];
    for (let guard = 0; guard < 20; guard++) {
      const page = await resumed.scan(c, 2);
      rest.push(...page.records.map((r) => r.recordId));
      c = page.cursor;
      if (page.done) break;
    }
    expect(rest).toEqual(seen.slice(2));
    // A buyer changed after the end shows up on the next scan from the final cursor.
    await db('tb_buyers')
      .where('buyer_open_uid', B2)
      .update({ modified: T0 + 30 * D });
    try {
      const next = await tmall.scan(cursor, 2);
      expect(next.records.map((r) => r.recordId)).toEqual([B2]);
    } finally {
      await db('tb_buyers')
        .where('buyer_open_uid', B2)
        .update({ modified: T0 + 20 * D });
    }
  });

  it('keeps its place through scans from the end that find nothing new, so a later change still shows up', async () => {
    let cursor: string | null = null;
    for (let guard = 0; guard < 20; guard++) {
      const page = await tmall.scan(cursor, 2);
      cursor = page.cursor;
      if (page.done) break;
    }
    // Re-runs with nothing changed: nothing read, each ending where it began.
    for (let run = 0; run < 3; run++) {
      const again = await tmall.scan(cursor, 2);
      expect(again).toEqual({ records: [], cursor, done: true, malformed: 0 });
    }
    await db('tb_buyers')
      .where('buyer_open_uid', B3)
      .update({ modified: T0 + 30 * D });
    try {
      const next = await tmall.scan(cursor, 2);
      expect(next.records.map((r) => r.recordId)).toEqual([B3]);
    } finally {
      await db('tb_buyers')
        .where('buyer_open_uid', B3)
        .update({ modified: T0 + 21 * D });
    }
  });

  it('emits a real member phone as PHONE and never a virtual or masked number', async () => {
    const records = readRecords(await tmall.scanRecords([B1, B3, B4, B5, 'AAnobody00000']));
    expect(records[0]).toEqual({ source: 'shop_tmall', recordId: B1, updatedAt: iso(T0 + 20 * D), identifiers: [{ kind: 'PHONE', value: '+8613800138000' }] });
    for (const r of records.slice(1, 4)) expect(r?.identifiers).toEqual([]);
    expect(records[4]).toBeNull();
    const page = await tmall.scan(null, 100);
    const values = page.records.flatMap((r) => r.identifiers.map((i) => i.value));
    expect(values).toEqual(['+8613800138000']);
    expect(values.every((v) => !v.includes('*') && normalizePhone(v) === v)).toBe(true);
  });
});

describe('Marketplace source: errors', () => {
  it('reads a wrong signature, app key or session as SOURCE_BAD_RESPONSE with the TOP code, and no values in the message', async () => {
    const badSign = await failure(connect('shop_tmall', { appSecret: 'wrong' }).buyersByIds([B1]));
    expect(badSign.extensions).toMatchObject({ code: 'SOURCE_BAD_RESPONSE', source: 'shop_tmall', topCode: 25 });
    expect(badSign.message).not.toContain(B1);
    const badSession = await failure(connect('shop_tmall', { session: 'expired' }).ordersByBuyerIds([B1], {}));
    expect(badSession.code).toBe('SOURCE_BAD_RESPONSE');
    expect(badSession.extensions).toMatchObject({ topCode: 27, subCode: 'invalid-sessionkey' });
    const badKey = await failure(connect('shop_tmall', { appKey: 'nope' }).health());
    expect(badKey.extensions).toMatchObject({ code: 'SOURCE_BAD_RESPONSE', topCode: 29 });
  });

  it('reads 5xx, platform (isp.*) failures and call limits as SOURCE_UNAVAILABLE', async () => {
    server.failNext('http503', 2);
    const e503 = await failure(connect('shop_tmall', { retries: 1 }).buyersByIds([B1]));
    expect(e503.code).toBe('SOURCE_UNAVAILABLE');
    server.failNext('isp');
    expect((await failure(tmall.buyersByIds([B1]))).code).toBe('SOURCE_UNAVAILABLE');
    server.failNext('limit');
    expect((await failure(tmall.linesByOrderIds(['300000000000001']))).code).toBe('SOURCE_UNAVAILABLE');
    server.failNext('userLimit');
    expect((await failure(tmall.buyersByIds([B1]))).extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', topCode: 4 });
    server.failNext('garbage');
    expect((await failure(tmall.buyersByIds([B1]))).code).toBe('SOURCE_BAD_RESPONSE');
    // A retried 503 succeeds on the second attempt, and the observer still counts one call.
    server.failNext('http503');
    recorder.reset();
    const retried = connect('shop_tmall', { retries: 1 });
    expect(ok((await retried.buyersByIds([B1]))[0])).toMatchObject({ id: B1 });
    expect(recorder.of('shop_tmall', 'buyersByIds')).toHaveLength(1);
  });

  it('counts call limits and isp.* failures against the breaker: once open, calls fail fast without a request', async () => {
    const guarded = connect('shop_tmall', { breaker: { failureThreshold: 2, cooldownMs: 600_000 } });
    server.failNext('limit');
    expect((await failure(guarded.buyersByIds([B1]))).extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', topCode: 7 });
    server.failNext('isp');
    expect((await failure(guarded.buyersByIds([B1]))).code).toBe('SOURCE_UNAVAILABLE');
    const asked = server.requests().length;
    const fast = await failure(guarded.buyersByIds([B1]));
    expect(fast.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', circuit: 'open' });
    expect(server.requests()).toHaveLength(asked);
  });

  it('the stand-in answers a request target no URL parses with 400 and keeps serving', async () => {
    for (const line of UNPARSABLE_TARGETS) expect((await rawRequest(server.url, line)).status).toBe(400);
    await expect(tmall.health()).resolves.toBeUndefined();
  });

  it('signs every request with TOP md5 over the sorted parameters', async () => {
    await tmall.health();
    const last = server.requests()[server.requests().length - 1];
    expect(last.params).toMatchObject({ method: 'taobao.time.get', app_key: CREDS.appKey, sign_method: 'md5', format: 'json' });
    expect(last.params.sign).toMatch(/^[0-9A-F]{32}$/);
  });
});

describe('Marketplace source: two instances of the kind', () => {
  it('serves shop_jd beside shop_tmall against the same API, each with its own source name and channel', async () => {
    const jd = connect('shop_jd', { channel: 'jd', maxBatch: 1 });
    const [[[tm]], [[jo]]] = (await Promise.all([tmall.ordersByBuyerIds([B5], {}), jd.ordersByBuyerIds([B5], {})])).map(lists);
    expect(ok(tm)).toMatchObject({ source: 'shop_tmall', channel: 'tmall', id: '300000000000005', status: 'paid' });
    expect(ok(jo)).toMatchObject({ source: 'shop_jd', channel: 'jd', id: '300000000000005', status: 'paid' });
    const [rec] = await jd.scanRecords([B1]);
    expect(rec?.source).toBe('shop_jd');
    await jd.buyersByIds([B1, B5, B3]);
    expect(recorder.of('shop_jd', 'buyersByIds').map((c) => c.batchSize)).toEqual([1, 1, 1]);
    expect(recorder.of('shop_tmall', 'buyersByIds')).toHaveLength(0);
  });
});

describe('Marketplace source: capabilities and resolvers', () => {
  it('maps record ids to buyers for commerce, profile and events', async () => {
    const caps = kind.capabilities(tmall);
    const [orders] = lists(await caps.commerce!.ordersByRecordIds([B5], {}));
    expect(ok(orders[0]).source).toBe('shop_tmall');
    const [b1] = await caps.profile!.records([B1]);
    expect(caps.profile!.view(ok(b1))).toMatchObject({ recordId: B1, values: { phone: '+8613800138000', registeredAt: iso(T0 + 5 * D), registrationChannel: 'tmall' } });
    expect(caps.events!.kinds).toEqual(['order_paid', 'order_placed', 'order_refunded']);
  });

  it('lists a customer buyers across instances through one batch loader per instance, dropping unknown ids', async () => {
    const jd = connect('shop_jd', { channel: 'jd' });
    const resolvers = kind.resolvers!([
      { name: 'shop_tmall', connector: tmall },
      { name: 'shop_jd', connector: jd },
    ]) as { Customer: { marketplaceBuyers: (c: { id: string }, a: unknown, ctx: KindContext) => Promise<unknown[]> } };
    const records: Record<string, Record<string, string[]>> = { c1: { shop_tmall: [B1, 'AAnobody00000'], shop_jd: [B5] }, c2: { shop_tmall: [B3], shop_jd: [] } };
    const batches: Array<[string, readonly string[]]> = [];
    const ctx: KindContext = {
      limits: { maxFirst: 100 },
      loaders: {
        connector: ((source: string) => ({ shop_tmall: tmall, shop_jd: jd })[source]) as never,
        together: (_group, p) => p,
        recordIds: async (customerId, source) => records[customerId]?.[source] ?? [],
        batch: (source, _op, call) => ({
          load: async (k) => (await call([k], new Map()))[0] as never,
          loadMany: async (keys) => {
            batches.push([source, keys]);
            try {
              return (await call(keys, new Map())) as never;
            } catch (e) {
              return keys.map(() => e as Error) as never;
            }
          },
        }),
      },
    };
    const list = (await resolvers.Customer.marketplaceBuyers({ id: 'c1' }, {}, ctx)) as MarketplaceBuyer[];
    expect(list.map((b) => [b.source, b.id])).toEqual([
      ['shop_tmall', B1],
      ['shop_jd', B5],
    ]);
    server.failNext('isp');
    await expect(resolvers.Customer.marketplaceBuyers({ id: 'c2' }, {}, ctx)).rejects.toMatchObject({ extensions: { code: 'SOURCE_UNAVAILABLE' } });
  });
});
