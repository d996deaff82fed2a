/**
 * Insights as pure functions: order figures from account aggregates, RFM scoring and segments,
 * tags from rules, lifecycle stages, the boundary cache, and the rules loader's refusals.
 */
import { demoRegistry } from '../helpers/registry';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { needsOf, evaluateTags, windowsOf, type TagFacts } from '../../src/insights/tags';
import { averageOrderValue, combineCategories, customerOrders, ordersWithin, refundRate, type CustomerOrders } from '../../src/insights/summary';
import { quintile, rfmOf } from '../../src/insights/rfm';
import { lifecycleOf } from '../../src/insights/lifecycle';
import { combineBoundaries, createBoundaryCache, createCombinedBoundaries } from '../../src/insights/rfm-cache';
import { loadInsightRules, parseLifecycleRules, parseTagRules, type TagRule } from '../../src/insights/rules';
import { createInsightsRuntime } from '../../src/insights/runtime';
import type { OrderSummary, RfmBoundaries, Ticket } from '../../src/capabilities';
import { SourceError } from '../../src/errors';

const CONFIG = path.resolve(__dirname, '../../config');
const rules = loadInsightRules(CONFIG);
const NOW = '2024-06-30T00:00:00.000Z';
/** The request time the boundary caches are asked at (their fetches here ignore it). */
const AS_OF = { now: NOW };
/** Lets a refresh started behind an answer settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
const daysAgo = (d: number) => new Date(Date.parse(NOW) - d * 86_400_000).toISOString();
const cny = (amount: string) => ({ amount, currency: 'CNY' });
const WINDOWS = [7, 30, 90, 365];

function summary(over: Partial<OrderSummary> & { accountId: string }): OrderSummary {
  return {
    orderCount: 1,
    totalSpent: cny('100.00'),
    refundedAmount: cny('0.00'),
    firstOrderAt: daysAgo(100),
    lastOrderAt: daysAgo(10),
    grossSpent: cny('100.00'),
    refundedOrderCount: 0,
    recentOrderCounts: [0, 1, 1, 1],
    ...over,
  };
}

function orders(over: Partial<CustomerOrders> = {}): CustomerOrders {
  return {
    orderCount: 3,
    lifetimeValue: cny('300.00'),
    grossSpent: cny('300.00'),
    refundedOrderCount: 0,
    firstOrderAt: daysAgo(200),
    lastOrderAt: daysAgo(5),
    recentOrders: new Map([
      [7, 1],
      [30, 1],
      [90, 2],
      [365, 3],
    ]),
    ...over,
  };
}

describe('Insights: order figures', () => {
  it('sums accounts: lifetime value net of refunds, average basket before refunds, windows, refund rate', () => {
    const o = customerOrders(
      [
        summary({
          accountId: '1',
          orderCount: 2,
          totalSpent: cny('150.00'),
          grossSpent: cny('200.00'),
          refundedOrderCount: 1,
          recentOrderCounts: [1, 2, 2, 2],
          firstOrderAt: daysAgo(40),
          lastOrderAt: daysAgo(3),
        }),
        summary({
          accountId: '2',
          orderCount: 1,
          totalSpent: cny('0.01'),
          grossSpent: cny('0.01'),
          recentOrderCounts: [0, 0, 0, 1],
          firstOrderAt: daysAgo(300),
          lastOrderAt: daysAgo(300),
        }),
      ],
      WINDOWS,
    )!;
    expect(o.lifetimeValue).toEqual(cny('150.01'));
    expect(o.orderCount).toBe(3);
    expect([ordersWithin(o, 7), ordersWithin(o, 30), ordersWithin(o, 365)]).toEqual([1, 2, 3]);
    expect([o.firstOrderAt, o.lastOrderAt]).toEqual([daysAgo(300), daysAgo(3)]);
    // 200.01 / 3 = 66.67 (half up)
    expect(averageOrderValue(o)).toEqual(cny('66.67'));
    expect(refundRate(o)).toBeCloseTo(1 / 3);
    expect(() => ordersWithin(o, 14)).toThrow(/14-day window/);
  });

  it('answers null without accounts and refuses summaries loaded without windows', () => {
    expect(customerOrders([], WINDOWS)).toBeNull();
    expect(() => customerOrders([summary({ accountId: '1', recentOrderCounts: undefined })], WINDOWS)).toThrow(/without its windows/);
  });

  it('ranks categories over all accounts: orders, then units, then name', () => {
    expect(
      combineCategories([
        [
          { category: 'food', orders: 2, quantity: 5 },
          { category: 'books', orders: 1, quantity: 1 },
        ],
        [
          { category: 'books', orders: 1, quantity: 1 },
          { category: 'baby', orders: 2, quantity: 5 },
        ],
      ]),
    ).toEqual([
      { category: 'baby', orders: 2, quantity: 5 },
      { category: 'food', orders: 2, quantity: 5 },
      { category: 'books', orders: 2, quantity: 2 },
    ]);
  });
});

describe('Insights: RFM', () => {
  const boundaries: RfmBoundaries = {
    accounts: 10,
    recency: [daysAgo(300), daysAgo(200), daysAgo(90), daysAgo(30)],
    frequency: [1, 1, 2, 4],
    monetary: [5000, 10000, 20000, 50000],
    currency: 'CNY',
    computedAt: NOW,
  };

  it('scores 1 + the boundaries strictly below, so a value on a boundary stays in the lower quintile', () => {
    expect([0, 1, 2, 3, 4, 5, 99].map((v) => quintile(v, [1, 1, 2, 4]))).toEqual([1, 1, 3, 4, 4, 5, 5]);
    expect(quintile(7, [])).toBe(1);
  });

  it('scores recency, frequency and money, and names the segment by the configured rules', () => {
    const r = rfmOf(orders({ orderCount: 5, lifetimeValue: cny('600.00'), lastOrderAt: daysAgo(5) }), boundaries, rules.lifecycle.rfm.segments, NOW)!;
    expect([r.recencyDays, r.frequency, r.r, r.f, r.m, r.segment]).toEqual([5, 5, 5, 5, 5, 'champions']);
    const old = rfmOf(orders({ orderCount: 3, lifetimeValue: cny('80.00'), lastOrderAt: daysAgo(250) }), boundaries, rules.lifecycle.rfm.segments, NOW)!;
    expect([old.r, old.f, old.m, old.segment]).toEqual([2, 4, 2, 'at_risk']);
    const once = rfmOf(orders({ orderCount: 1, lifetimeValue: cny('10.00'), lastOrderAt: daysAgo(400) }), boundaries, rules.lifecycle.rfm.segments, NOW)!;
    expect([once.r, once.f, once.m, once.segment]).toEqual([1, 1, 1, 'hibernating']);
  });

  it('names the commerce capability, not a source, when money in several currencies cannot be compared', () => {
    const usd = summary({ accountId: '2', totalSpent: { amount: '1.00', currency: 'USD' }, grossSpent: { amount: '1.00', currency: 'USD' } });
    const mixed = () => customerOrders([summary({ accountId: '1' }), usd], WINDOWS);
    expect(mixed).toThrow(expect.objectContaining({ sourceName: 'commerce', code: 'SOURCE_BAD_RESPONSE' }));
    const inUsd = () => rfmOf(orders({ lifetimeValue: { amount: '9.00', currency: 'USD' } }), boundaries, rules.lifecycle.rfm.segments, NOW);
    expect(inUsd).toThrow(expect.objectContaining({ sourceName: 'commerce', code: 'SOURCE_BAD_RESPONSE' }));
  });

  it('is not made mixed by an account in another currency that spent nothing (only cancelled orders)', () => {
    const usd = { amount: '0.00', currency: 'USD' };
    const cancelledOnly = summary({
      accountId: '2',
      orderCount: 0,
      totalSpent: usd,
      refundedAmount: usd,
      grossSpent: usd,
      firstOrderAt: null,
      lastOrderAt: null,
      recentOrderCounts: [0, 0, 0, 0],
    });
    expect(customerOrders([summary({ accountId: '1' }), cancelledOnly], WINDOWS)).toEqual(customerOrders([summary({ accountId: '1' })], WINDOWS));
  });

  it('has no RFM without counted orders', () => {
    expect(rfmOf(null, boundaries, rules.lifecycle.rfm.segments, NOW)).toBeNull();
    expect(rfmOf(orders({ orderCount: 0, lastOrderAt: null }), boundaries, rules.lifecycle.rfm.segments, NOW)).toBeNull();
  });
});

describe('Insights: tags', () => {
  const ticket = (over: Partial<Ticket>): Ticket => ({
    source: 'support',
    id: '1',
    requesterId: '1',
    subject: 's',
    status: 'solved',
    priority: null,
    channel: 'email',
    satisfactionScore: null,
    createdAt: daysAgo(20),
    updatedAt: daysAgo(20),
    solvedAt: daysAgo(20),
    ...over,
  });
  const facts = (over: Partial<TagFacts> = {}): TagFacts => ({
    now: NOW,
    orders: orders(),
    categories: [],
    golden: { memberTier: 'gold' },
    accounts: [],
    tickets: [],
    ...over,
  });

  it('reads only what the configured rules need', () => {
    expect(needsOf(rules.tags)).toEqual({ orders: true, categories: true, golden: ['memberTier'], accounts: true, tickets: true, rfm: false });
    expect(windowsOf(rules.tags)).toEqual([7]);
    expect(createInsightsRuntime(rules, demoRegistry()).orderWindowDays).toEqual([7, 30, 90, 365]);
  });

  it('gives each tag with the rule that produced it and why', () => {
    const tags = evaluateTags(
      rules.tags,
      facts({
        orders: orders({
          recentOrders: new Map([
            [7, 2],
            [30, 2],
            [90, 2],
            [365, 3],
          ]),
          lifetimeValue: cny('5000.00'),
        }),
        categories: [
          { category: 'beauty', orders: 3, quantity: 4 },
          { category: 'food', orders: 2, quantity: 9 },
        ],
        accounts: [{ source: 'orders', id: '9', channel: 'miniprogram' }],
        tickets: [ticket({ id: '5', satisfactionScore: 2, updatedAt: daysAgo(89) }), ticket({ id: '6', satisfactionScore: 1, updatedAt: daysAgo(91) })],
      }),
    );
    expect(tags.map((t) => [t.name, t.rule, t.reason])).toEqual([
      ['high_activity', 'high-activity', '2 orders in the last 7 days'],
      ['vip', 'vip', 'lifetime value 5000.00 CNY >= 5000.00'],
      ['miniprogram_user', 'miniprogram-user', 'orders account 9 registered via miniprogram'],
      ['prefers_beauty', 'category-preference', '3 orders with beauty'],
      ['unhappy', 'unhappy', `ticket 5 rated 2 on ${daysAgo(89).slice(0, 10)}`],
    ]);
  });

  it('gives none when no rule holds, and vip from either side of its anyOf', () => {
    expect(evaluateTags(rules.tags, facts({ orders: null }))).toEqual([]);
    const platinum = evaluateTags(rules.tags, facts({ golden: { memberTier: 'platinum' } }));
    expect(platinum.map((t) => [t.name, t.reason])).toEqual([['vip', 'memberTier is platinum']]);
    // A low rating older than 90 days, or a good one, is not unhappy.
    expect(evaluateTags(rules.tags, facts({ tickets: [ticket({ satisfactionScore: 1, updatedAt: daysAgo(91) }), ticket({ satisfactionScore: 3 })] }))).toEqual([]);
  });

  it("compares a lifetime value only in the rule's currency (yuan unless it names one)", () => {
    const ltv = (amount: string, currency: string) => facts({ orders: orders({ lifetimeValue: { amount, currency } }) });
    expect(evaluateTags(rules.tags, ltv('6000.00', 'USD'))).toEqual([]);
    expect(evaluateTags(rules.tags, ltv('5000.00', 'CNY')).map((t) => t.name)).toEqual(['vip']);
    const dollars = parseTagRules({ tags: [{ id: 'big', tag: 'big', description: 'd', when: { lifetimeValue: { atLeast: '1000', currency: 'USD' } } }] });
    expect(evaluateTags(dollars, ltv('1000.00', 'USD')).map((t) => t.reason)).toEqual(['lifetime value 1000.00 USD >= 1000.00']);
    expect(evaluateTags(dollars, ltv('99999.00', 'CNY'))).toEqual([]);
    const yen = parseTagRules({ tags: [{ id: 'big', tag: 'big', description: 'd', when: { lifetimeValue: { atLeast: '100000', currency: 'JPY' } } }] });
    expect(evaluateTags(yen, ltv('120000', 'JPY')).map((t) => t.reason)).toEqual(['lifetime value 120000 JPY >= 100000']);
    expect(evaluateTags(yen, ltv('99999', 'JPY'))).toEqual([]);
  });

  it('leaves undecided a rule that turns on an RFM segment that could not be read, and still decides the others', () => {
    const rfmRules = parseTagRules({
      tags: [
        { id: 'champ', tag: 'champ', description: 'd', when: { rfmSegment: { in: ['champions'] } } },
        { id: 'champ-or-many', tag: 'champ_or_many', description: 'd', when: { anyOf: [{ rfmSegment: { in: ['champions'] } }, { orderCount: { atLeast: 2 } }] } },
        { id: 'champ-and-many', tag: 'champ_and_many', description: 'd', when: { allOf: [{ rfmSegment: { in: ['champions'] } }, { orderCount: { atLeast: 9 } }] } },
        { id: 'many', tag: 'many', description: 'd', when: { orderCount: { atLeast: 2 } } },
      ],
    });
    const unreadable = new SourceError('marketplace', 'SOURCE_UNAVAILABLE', 'down');
    const undecided: TagRule[] = [];
    const tags = evaluateTags(rfmRules, facts({ orders: orders({ orderCount: 3 }), rfmSegment: unreadable }), undecided);
    // anyOf holds by its other condition; allOf fails by its other one; the segment alone decides nothing.
    expect(tags.map((t) => t.name)).toEqual(['champ_or_many', 'many']);
    expect(undecided.map((r) => r.id)).toEqual(['champ']);
    // A segment read: every rule decided.
    const read: TagRule[] = [];
    expect(evaluateTags(rfmRules, facts({ orders: orders({ orderCount: 3 }), rfmSegment: 'champions' }), read).map((t) => t.name)).toEqual(['champ', 'champ_or_many', 'many']);
    expect(read).toEqual([]);
  });

  it('names each category tag after its category, in any script, so two categories never share a tag', () => {
    const categories = ['美妆', '母婴', 'Home & Garden', 'Électronique'].map((category) => ({ category, orders: 3, quantity: 3 }));
    const names = evaluateTags(rules.tags, facts({ categories })).map((t) => t.name);
    expect(names).toEqual(['prefers_美妆', 'prefers_母婴', 'prefers_home_garden', 'prefers_électronique']);
  });

  it('fails loudly when a needed fact was not loaded', () => {
    expect(() => evaluateTags(rules.tags, { now: NOW })).toThrow(/not loaded/);
  });
});

describe('Insights: lifecycle', () => {
  const stages = rules.lifecycle.stages;
  it.each([
    ['NEW', orders({ firstOrderAt: daysAgo(10), lastOrderAt: daysAgo(2) }), null],
    ['ACTIVE', orders({ lastOrderAt: daysAgo(90) }), null],
    ['AT_RISK', orders({ lastOrderAt: daysAgo(91) }), null],
    ['AT_RISK', orders({ lastOrderAt: daysAgo(180) }), null],
    ['CHURNED', orders({ lastOrderAt: daysAgo(181) }), null],
    ['NEW', null, daysAgo(5)],
    ['PROSPECT', null, daysAgo(31)],
    ['PROSPECT', null, null],
  ])('%s', (stage, o, registeredAt) => {
    expect(lifecycleOf(stages, o as CustomerOrders | null, registeredAt as string | null, NOW).stage).toBe(stage);
  });
});

describe('Insights: RFM boundary cache', () => {
  /** The n-th answer: n accounts, computed n seconds after NOW. */
  const b = (n: number): RfmBoundaries => ({
    accounts: n,
    recency: [],
    frequency: [],
    monetary: [],
    currency: 'CNY',
    computedAt: new Date(Date.parse(NOW) + n * 1000).toISOString(),
  });

  it('asks the source once per TTL, once for concurrent callers, and serves the old answer if a refresh fails', async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const cache = createBoundaryCache(
      async () => {
        calls++;
        if (fail) throw new Error('down');
        return b(calls);
      },
      1000,
      () => now,
    );
    expect((await Promise.all([cache.get(AS_OF), cache.get(AS_OF), cache.get(AS_OF)])).map((x) => x.accounts)).toEqual([1, 1, 1]);
    now = 999;
    expect((await cache.get(AS_OF)).accounts).toBe(1);
    now = 1000;
    // Expired: the older answer at once, the refresh behind it; the next request has the new one.
    expect((await cache.get(AS_OF)).accounts).toBe(1);
    await settle();
    expect((await cache.get(AS_OF)).accounts).toBe(2);
    expect(calls).toBe(2);
    now = 5000;
    fail = true;
    expect((await cache.get(AS_OF)).accounts).toBe(2);
    await settle();
    expect((await cache.get(AS_OF)).accounts).toBe(2);
    expect(calls).toBe(4);
    cache.clear();
    await expect(cache.get(AS_OF)).rejects.toThrow('down');
  });

  it('says whether a request would wait for the source: only with no answer to serve (the BI budget charges that one)', async () => {
    let now = 0;
    let accounts = 3;
    // One account each: a tile of its own, so the parts combine into a base with orders.
    const part = (): RfmBoundaries => ({ ...b(1), recency: [NOW], frequency: [1], monetary: [100] });
    const cache = createCombinedBoundaries([async () => part(), async () => part()], 1000, () => now);
    expect([cache.waits(), cache.waiting()]).toEqual([true, [true, true]]);
    await cache.get(AS_OF);
    expect([cache.waits(), cache.waiting()]).toEqual([false, [false, false]]);
    // Expired: the older answer is served while a refresh runs behind it, so no request waits.
    now = 1000;
    expect(cache.waits()).toBe(false);
    cache.clear();
    expect(cache.waiting()).toEqual([true, true]);
    // An empty base is asked again by the next request: it waits.
    accounts = 0;
    const one = createBoundaryCache(
      async () => ({ ...b(1), accounts }),
      1000,
      () => now,
    );
    await one.get(AS_OF);
    expect(one.waits()).toBe(true);
  });

  it('answers expired boundaries at once while a slow source refreshes them, with one call for every request meanwhile', async () => {
    let now = 0;
    const pending: Array<(b: RfmBoundaries) => void> = [];
    const cache = createBoundaryCache(
      () => new Promise<RfmBoundaries>((resolve) => pending.push(resolve)),
      1000,
      () => now,
    );
    const first = cache.get(AS_OF);
    pending[0](b(1));
    expect((await first).accounts).toBe(1);
    now = 2000;
    // The source is slow: its answer has not come, yet every request is answered, the older boundaries.
    const meanwhile = await Promise.all([cache.get(AS_OF), cache.get(AS_OF), cache.get(AS_OF)]);
    expect(meanwhile.map((x) => [x.accounts, x.computedAt])).toEqual([
      [1, b(1).computedAt],
      [1, b(1).computedAt],
      [1, b(1).computedAt],
    ]);
    expect(pending).toHaveLength(2);
    pending[1](b(2));
    await settle();
    expect((await cache.get(AS_OF)).accounts).toBe(2);
    expect(pending).toHaveLength(2);
  });
});

describe('Insights: RFM boundary cache of an empty base', () => {
  it('asks again after an empty base (no counted order yet), and keeps the first base with accounts for the TTL', async () => {
    const answers = [0, 0, 3, 4];
    let calls = 0;
    const cache = createBoundaryCache(
      async () => ({ accounts: answers[calls++], recency: [], frequency: [], monetary: [], currency: 'CNY', computedAt: NOW }),
      1000,
      () => 0,
    );
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push((await cache.get(AS_OF)).accounts);
    expect(seen).toEqual([0, 0, 3, 3]);
    expect(calls).toBe(3);
  });
});

describe('Insights: RFM boundary cache over several commerce sources', () => {
  const part = (accounts: number, computedAt = NOW): RfmBoundaries => ({
    accounts,
    recency: [400, 300, 200, 100].slice(0, Math.min(accounts, 4)).map(daysAgo),
    frequency: [1, 2, 3, 4].slice(0, Math.min(accounts, 4)),
    monetary: [100, 200, 300, 400].slice(0, Math.min(accounts, 4)),
    currency: 'CNY',
    computedAt,
  });

  it('never answers or keeps a whole missing a part; keeps the parts that answered; the whole is as old as its oldest part', async () => {
    const calls = [0, 0];
    let downB = true;
    const cache = createCombinedBoundaries(
      [
        async () => (calls[0]++, part(10, daysAgo(1))),
        async () => {
          calls[1]++;
          if (downB) throw new Error('b down');
          return part(5);
        },
      ],
      1000,
      () => 0,
    );
    await expect(cache.get(AS_OF)).rejects.toThrow('b down');
    await expect(cache.get(AS_OF)).rejects.toThrow('b down');
    expect(calls).toEqual([1, 2]);
    downB = false;
    const whole = await cache.get(AS_OF);
    expect(whole).toMatchObject({ accounts: 15, computedAt: daysAgo(1) });
    expect(await cache.get(AS_OF)).toBe(whole);
    expect(calls).toEqual([1, 3]);
  });

  it('keeps an empty part beside one with orders for the TTL, and asks every part again while the whole is empty', async () => {
    const calls = [0, 0];
    let aAccounts = 0;
    const cache = createCombinedBoundaries([async () => (calls[0]++, part(aAccounts)), async () => (calls[1]++, part(0))], 1000, () => 0);
    expect((await cache.get(AS_OF)).accounts).toBe(0);
    expect((await cache.get(AS_OF)).accounts).toBe(0);
    expect(calls).toEqual([2, 2]);
    aAccounts = 7;
    expect((await cache.get(AS_OF)).accounts).toBe(7);
    expect((await cache.get(AS_OF)).accounts).toBe(7);
    expect(calls).toEqual([3, 3]);
  });
});

describe('Insights: RFM boundaries of several bases', () => {
  const base = (accounts: number, recencyDays: number[], frequency: number[], monetary: number[], currency = 'CNY'): RfmBoundaries => ({
    accounts,
    recency: recencyDays.map(daysAgo),
    frequency,
    monetary,
    currency,
    computedAt: NOW,
  });

  it("keeps a base of fewer than five accounts: its boundaries are each account's value, so its customers are scored", () => {
    // A new shop: three accounts with counted orders, NTILE(5) gives tiles 1, 2, 3 of one account each.
    const small = base(3, [200, 40, 3], [1, 1, 2], [1000, 13000, 30000]);
    const combined = combineBoundaries([small]);
    expect(combined).toEqual(small);
    // Its busiest customer: last order 3 days ago, two orders, 130 yuan: 1 + the values strictly below.
    const r = rfmOf(orders({ orderCount: 2, lifetimeValue: cny('130.00'), lastOrderAt: daysAgo(3) }), combined, rules.lifecycle.rfm.segments, NOW)!;
    expect([r.r, r.f, r.m]).toEqual([3, 3, 2]);
  });

  it('quintiles small bases together when no source has five accounts, and leaves them out beside a larger one', () => {
    // Two shops of two and three accounts: the five accounts' values, NTILE(5) by hand (a tile each).
    const a = base(2, [100, 10], [1, 3], [500, 9000]);
    const b = base(3, [300, 50, 1], [1, 2, 2], [100, 2000, 4000]);
    expect(combineBoundaries([a, b], NOW)).toEqual(base(5, [300, 100, 50, 10], [1, 1, 2, 2], [100, 500, 2000, 4000]));
    // Beside a quintiled base, the small one moves no boundary; its accounts still count.
    const big = base(10, [300, 200, 90, 30], [1, 1, 2, 4], [5000, 10000, 20000, 50000]);
    expect(combineBoundaries([big, a], NOW)).toEqual({ ...big, accounts: 12 });
    // A source of six accounts, only two of them in yuan: its money is two accounts' values, not quintiles.
    const fewInYuan = base(6, [250, 150, 60, 20], [1, 2, 3, 5], [700, 800]);
    expect(combineBoundaries([big, fewInYuan], NOW)).toMatchObject({ accounts: 16, monetary: big.monetary });
    expect(combineBoundaries([base(0, [], [], [])], NOW)).toMatchObject({ accounts: 0, recency: [], currency: null });
  });
});

describe('Insights: rules as data', () => {
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(CONFIG, f), 'utf8'));

  it.each([
    ['a tag with a bad name', (j: any) => (j.tags[0].tag = 'High Activity'), 'tags.0.tag'],
    ['a repeated rule id', (j: any) => (j.tags[1].id = j.tags[0].id), 'tags.1.id'],
    ['{category} without a categoryOrders rule', (j: any) => (j.tags[0].tag = 'x_{category}'), 'tags.0.tag'],
    ['an unknown condition', (j: any) => (j.tags[0].when = { ordersInWeek: 2 }), 'tags.0.when'],
    [
      'a gender written as the schema never answers it',
      (j: any) => (j.tags[1].when.anyOf[0] = { golden: { field: 'gender', in: ['female'] } }),
      'tags.1.when.anyOf.0.golden.in.0',
    ],
    ['a consent flag other than true or false', (j: any) => (j.tags[0].when = { golden: { field: 'marketingConsent.sms', in: ['yes'] } }), 'tags.0.when.golden.in.0'],
    // The yen has no minor unit: the rule could never match an amount, and would say nothing.
    ['a yen threshold with decimals', (j: any) => (j.tags[0].when = { lifetimeValue: { atLeast: '1000.50', currency: 'JPY' } }), 'tags.0.when.lifetimeValue.atLeast'],
  ])('refuses a tags file with %s, naming the key', (_, mutate, key) => {
    const json = read('tags.json');
    mutate(json);
    expect(() => parseTagRules(json, 'config/tags.json')).toThrow(`config/tags.json: invalid rules at key "${key}"`);
  });

  it.each([
    [
      'a mistyped condition',
      { recentOrder: { atLeast: 2, withinDays: 7 } },
      'tags.0.when": unknown condition "recentOrder"; the conditions are recentOrders, orderCount, lifetimeValue, golden, accountChannel, satisfaction, rfmSegment, anyOf, allOf, categoryOrders',
    ],
    [
      'a mistyped key inside a condition',
      { recentOrders: { atLeast: 2, withinDay: 7 } },
      'tags.0.when": recentOrders.withinDays: Invalid input: expected number, received undefined; recentOrders: Unrecognized key: "withinDay"',
    ],
    [
      'a mistyped condition inside anyOf',
      { anyOf: [{ orderCount: { atLeast: 1 } }, { satisfation: { atMost: 2, withinDays: 90 } }] },
      'tags.0.when": anyOf.1: unknown condition "satisfation"; the conditions are recentOrders, orderCount, lifetimeValue, golden, accountChannel, satisfaction, rfmSegment',
    ],
    [
      'two conditions in one object',
      { orderCount: { atLeast: 1 }, satisfaction: { atMost: 2, withinDays: 90 } },
      'tags.0.when": one condition per object, not orderCount and satisfaction: combine them with allOf or anyOf',
    ],
  ])('says what is wrong with %s, not just "Invalid input"', (_, when, message) => {
    const json = read('tags.json');
    json.tags[0].when = when;
    expect(() => parseTagRules(json, 'config/tags.json')).toThrow(`config/tags.json: invalid rules at key "${message}`);
  });

  it.each([
    ['thresholds out of order', (j: any) => (j.stages.atRiskWithinDays = 60), 'stages.atRiskWithinDays'],
    ['segments that leave a score uncovered', (j: any) => j.rfm.segments.pop(), 'rfm.segments'],
    ['a score range outside 1..5', (j: any) => (j.rfm.segments[0].r = [0, 5]), 'rfm.segments.0.r.0'],
    ['an unknown key', (j: any) => (j.stages.dormantDays = 365), 'stages.dormantDays'],
    ['a segment the ones before it leave no score to', (j: any) => j.rfm.segments.splice(1, 0, { name: 'top', description: 'd', r: [5, 5], f: [5, 5] }), 'rfm.segments.1'],
  ])('refuses a lifecycle file with %s, naming the key', (_, mutate, key) => {
    const json = read('lifecycle.json');
    mutate(json);
    expect(() => parseLifecycleRules(json, 'config/lifecycle.json')).toThrow(`config/lifecycle.json: invalid rules at key "${key}"`);
  });

  it('refuses an rfmSegment condition naming a segment lifecycle.json does not have, naming the key', () => {
    const dir = tempDir('rules');
    for (const f of ['survivorship.json', 'lifecycle.json']) fs.copyFileSync(path.join(CONFIG, f), path.join(dir, f));
    const tags = read('tags.json');
    tags.tags.push({ id: 'keep', tag: 'keep', description: 'd', when: { anyOf: [{ orderCount: { atLeast: 9 } }, { rfmSegment: { in: ['champions', 'cant_loose_them'] } }] } });
    fs.writeFileSync(path.join(dir, 'tags.json'), JSON.stringify(tags));
    expect(() => loadInsightRules(dir)).toThrow(
      `${path.join(dir, 'tags.json')}: invalid rules at key "tags.5.when.anyOf.1.rfmSegment.in.1": no RFM segment is named cant_loose_them in lifecycle.json`,
    );
    tags.tags[5].when.anyOf[1].rfmSegment.in[1] = 'cant_lose_them';
    fs.writeFileSync(path.join(dir, 'tags.json'), JSON.stringify(tags));
    expect(loadInsightRules(dir).tags).toHaveLength(6);
  });

  it('names the file when one is missing or not JSON', () => {
    const dir = tempDir('rules');
    expect(() => loadInsightRules(dir)).toThrow(`${path.join(dir, 'survivorship.json')}: cannot read rules`);
    fs.copyFileSync(path.join(CONFIG, 'survivorship.json'), path.join(dir, 'survivorship.json'));
    fs.writeFileSync(path.join(dir, 'tags.json'), '{');
    expect(() => loadInsightRules(dir)).toThrow(`${path.join(dir, 'tags.json')}: not valid JSON`);
  });
});
