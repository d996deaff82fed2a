/**
 * Golden fields, timeline and insights as a client sees them, on a generated demo world served
 * by the real gateway. RFM scores, the extended order summary and tags are checked against an
 * independent computation written here directly against the demo databases (plain SELECTs and
 * plain code, none of the code under test); the timeline is walked page by page over HTTP.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startTestWorld, readTruth, type TestWorld } from '../helpers/world';
import type { SourceName } from '../../src/vocabulary';

const DAY = 86_400_000;
const LIFECYCLE = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/lifecycle.json'), 'utf8'));

let world: TestWorld;
let customers: string[];
/** customer id → its records per source, as OneID links them (the input every computation starts from). */
const recordsOf = new Map<string, Record<SourceName, string[]>>();

beforeAll(async () => {
  // The four original systems: one commerce source, where RFM boundaries are exact (with several
  // they are combined, see src/insights/rfm-cache.ts; test/e2e/sources.test.ts covers six).
  world = await startTestWorld({ people: 600, seed: 23, demoSystems: false });
  const keys = [...readTruth(world.truthFile).values()].flat().map((r) => ({ source: r.source as SourceName, recordId: r.recordId }));
  customers = [...new Set((await world.gw.idmap.customerIdsBySourceRecords(keys)).filter((id): id is string => id !== null))].sort();
  const linked = await world.gw.idmap.sourceRecordsByCustomerIds(customers);
  customers.forEach((id, i) => {
    const by: Record<SourceName, string[]> = { crm: [], orders: [], support: [], scrm: [] };
    for (const r of linked[i]) by[r.source].push(r.recordId);
    recordsOf.set(id, by);
  });
});

afterAll(async () => world?.close());

/** All customers, in chunks the API accepts, with the query's fields; answers by customer id, and the request's time bounds. */
async function ask(fields: string): Promise<{ byId: Map<string, any>; before: number; after: number }> {
  const byId = new Map<string, any>();
  const before = Date.now();
  for (let i = 0; i < customers.length; i += 500) {
    const { body } = await world.query(`query Q($ids: [ID!]!) { customers(ids: $ids) { id ${fields} } }`, { ids: customers.slice(i, i + 500) });
    expect(body.errors).toBeUndefined();
    for (const c of body.data.customers) byId.set(c.id, c);
  }
  return { byId, before, after: Date.now() };
}

// ---------------------------------------------------------------------------------------------
// The independent computation: the demo's own tables, read with plain SELECTs.
// ---------------------------------------------------------------------------------------------

interface AccountFacts {
  f: number;
  m: number;
  last: number;
  gross: number;
  refundedOrders: number;
  placed: number[];
  categories: Map<string, Set<number>>;
  quantities: Map<string, number>;
}

async function orderFacts(): Promise<Map<string, AccountFacts>> {
  const db = world.dbs.orders.db;
  const orders: any[] = await db('orders').select('order_id', 'account_id', 'status', 'total_cents', 'placed_at');
  const refunds: any[] = await db('refunds').select('order_id', 'amount_cents');
  const lines: any[] = await db('order_lines').select('order_id', 'category', 'qty');
  const refundedByOrder = new Map<number, number>();
  for (const r of refunds) refundedByOrder.set(Number(r.order_id), (refundedByOrder.get(Number(r.order_id)) ?? 0) + Number(r.amount_cents));
  const accountOf = new Map<number, string>();
  const out = new Map<string, AccountFacts>();
  for (const o of orders) {
    if (o.status === 'cancelled') continue;
    const id = String(o.account_id);
    accountOf.set(Number(o.order_id), id);
    const a: AccountFacts = out.get(id) ?? { f: 0, m: 0, last: 0, gross: 0, refundedOrders: 0, placed: [], categories: new Map(), quantities: new Map() };
    const refunded = refundedByOrder.get(Number(o.order_id)) ?? 0;
    a.f += 1;
    a.gross += Number(o.total_cents);
    a.m += Number(o.total_cents) - refunded;
    if (refundedByOrder.has(Number(o.order_id))) a.refundedOrders += 1;
    a.last = Math.max(a.last, Number(o.placed_at));
    a.placed.push(Number(o.placed_at));
    out.set(id, a);
  }
  for (const l of lines) {
    const id = accountOf.get(Number(l.order_id));
    if (!id) continue;
    const a = out.get(id)!;
    if (!a.categories.has(l.category)) a.categories.set(l.category, new Set());
    a.categories.get(l.category)!.add(Number(l.order_id));
    a.quantities.set(l.category, (a.quantities.get(l.category) ?? 0) + Number(l.qty));
  }
  return out;
}

/** NTILE(5) by hand: tile sizes differ by at most one, the larger ones first; each tile's largest value. */
function quintileBoundaries(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const out: number[] = [];
  let end = 0;
  for (let tile = 0; tile < 4; tile++) {
    end += Math.floor(n / 5) + (tile < n % 5 ? 1 : 0);
    if (end > 0 && end <= n) out.push(sorted[end - 1]);
  }
  return out;
}

const score = (v: number, bounds: number[]) => 1 + bounds.filter((b) => b < v).length;

function segmentFor(r: number, f: number, m: number): string {
  const inRange = (range: number[] | undefined, v: number) => !range || (v >= range[0] && v <= range[1]);
  return LIFECYCLE.rfm.segments.find((s: any) => inRange(s.r, r) && inRange(s.f, f) && inRange(s.m, m)).name;
}

interface CustomerFacts {
  f: number;
  m: number;
  last: number;
  gross: number;
  refundedOrders: number;
  placed: number[];
  categories: Array<{ category: string; orders: number; quantity: number }>;
}

function customerFacts(accounts: string[], facts: Map<string, AccountFacts>): CustomerFacts | null {
  const mine = accounts.map((a) => facts.get(a)).filter((a): a is AccountFacts => a !== undefined);
  if (!mine.length) return null;
  const cats = new Map<string, { orders: number; quantity: number }>();
  for (const a of mine)
    for (const [c, orders] of a.categories) {
      const x = cats.get(c) ?? { orders: 0, quantity: 0 };
      cats.set(c, { orders: x.orders + orders.size, quantity: x.quantity + a.quantities.get(c)! });
    }
  return {
    f: mine.reduce((s, a) => s + a.f, 0),
    m: mine.reduce((s, a) => s + a.m, 0),
    last: Math.max(...mine.map((a) => a.last)),
    gross: mine.reduce((s, a) => s + a.gross, 0),
    refundedOrders: mine.reduce((s, a) => s + a.refundedOrders, 0),
    placed: mine.flatMap((a) => a.placed),
    categories: [...cats].map(([category, x]) => ({ category, ...x })).sort((a, b) => b.orders - a.orders || b.quantity - a.quantity || (a.category < b.category ? -1 : 1)),
  };
}

const yuan = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

describe('Insights: RFM and order summary on the demo world', () => {
  it('match an independent computation over the whole order base', async () => {
    const facts = await orderFacts();
    const base = [...facts.values()];
    const bounds = {
      r: quintileBoundaries(base.map((a) => a.last)),
      f: quintileBoundaries(base.map((a) => a.f)),
      m: quintileBoundaries(base.map((a) => a.m)),
    };
    const { byId, before, after } = await ask(`
      rfm { recencyDays frequency monetary { amount currency } r f m score segment }
      orderSummary { orderCount lifetimeValue { amount } averageOrderValue { amount } ordersLast30Days ordersLast90Days ordersLast365Days favouriteCategories { category orders quantity } refundRate }`);

    let scored = 0;
    const segments = new Set<string>();
    for (const id of customers) {
      const got = byId.get(id);
      const c = customerFacts(recordsOf.get(id)!.orders, facts);
      if (!c) {
        expect({ id, rfm: got.rfm }).toEqual({ id, rfm: null });
        continue;
      }
      const r = score(c.last, bounds.r);
      const f = score(c.f, bounds.f);
      const m = score(c.m, bounds.m);
      expect({ id, rfm: { ...got.rfm, recencyDays: undefined } }).toEqual({
        id,
        rfm: { recencyDays: undefined, frequency: c.f, monetary: { amount: yuan(c.m), currency: 'CNY' }, r, f, m, score: `${r}${f}${m}`, segment: segmentFor(r, f, m) },
      });
      expect([Math.floor((before - c.last) / DAY), Math.floor((after - c.last) / DAY)]).toContain(got.rfm.recencyDays);

      const within = (days: number, now: number) => c.placed.filter((p) => p >= now - days * DAY && p <= now).length;
      const s = got.orderSummary;
      expect({ id, ltv: s.lifetimeValue.amount, count: s.orderCount, refundRate: s.refundRate }).toEqual({
        id,
        ltv: yuan(c.m),
        count: c.f,
        refundRate: c.refundedOrders / c.f,
      });
      expect(s.averageOrderValue.amount).toBe(yuan(Math.round(c.gross / c.f)));
      for (const [field, days] of [
        ['ordersLast30Days', 30],
        ['ordersLast90Days', 90],
        ['ordersLast365Days', 365],
      ] as const)
        expect([within(days, before), within(days, after)]).toContain(s[field]);
      expect(s.favouriteCategories).toEqual(c.categories.slice(0, LIFECYCLE.orderSummary.favouriteCategories));
      scored++;
      segments.add(got.rfm.segment);
    }
    expect(scored).toBeGreaterThan(200);
    // Enough of a base that several segments occur.
    expect(segments.size).toBeGreaterThanOrEqual(6);
  });
});

describe('Insights: tags on the demo world', () => {
  it('match an independent evaluation of the rules in config/tags.json', async () => {
    const facts = await orderFacts();
    const accounts: any[] = await world.dbs.orders.db('shop_accounts').select('account_id', 'channel');
    const channelOf = new Map(accounts.map((a) => [String(a.account_id), a.channel]));
    const contacts: any[] = await world.dbs.crm.db('crm_contacts').select('contact_id', 'tier', 'updated_at');
    const contactById = new Map(contacts.map((c) => [c.contact_id, c]));
    const tickets: any[] = await world.dbs.support.db('support_tickets').select('requester_id', 'satisfaction_score', 'updated_at');
    const ticketsOf = new Map<string, any[]>();
    for (const t of tickets) ticketsOf.set(String(t.requester_id), [...(ticketsOf.get(String(t.requester_id)) ?? []), t]);

    /** The rules, by hand, at one instant. */
    function expected(id: string, now: number): string[] {
      const rec = recordsOf.get(id)!;
      const c = customerFacts(rec.orders, facts);
      const tags: string[] = [];
      if (c && c.placed.filter((p) => p >= now - 7 * DAY && p <= now).length >= 2) tags.push('high_activity');
      // The current tier is the most recently updated contact's (ties: the shorter, then smaller id).
      const latest = rec.crm
        .map((cid) => contactById.get(cid))
        .filter(Boolean)
        .sort((a, b) =>
          a.updated_at > b.updated_at ? -1 : a.updated_at < b.updated_at ? 1 : a.contact_id.length - b.contact_id.length || (a.contact_id < b.contact_id ? -1 : 1),
        )[0];
      if (latest?.tier === 'platinum' || (c && c.m >= 500000)) tags.push('vip');
      if (rec.orders.some((a) => channelOf.get(a) === 'miniprogram')) tags.push('miniprogram_user');
      for (const cat of c?.categories ?? []) if (cat.orders >= 3) tags.push(`prefers_${cat.category}`);
      const low = rec.support.flatMap((r) => ticketsOf.get(r) ?? []).filter((t) => t.satisfaction_score != null && t.satisfaction_score <= 2);
      if (low.some((t) => Date.parse(t.updated_at) >= now - 90 * DAY && Date.parse(t.updated_at) <= now)) tags.push('unhappy');
      return tags.sort();
    }

    const { byId, before, after } = await ask('tags { name rule reason }');
    const seen = new Map<string, number>();
    let compared = 0;
    for (const id of customers) {
      const atBefore = expected(id, before);
      // A rule whose window edge moved during the request cannot be judged either way; such customers are rare.
      if (atBefore.join() !== expected(id, after).join()) continue;
      const got = byId.get(id).tags as Array<{ name: string; rule: string; reason: string }>;
      expect({ id, tags: got.map((t) => t.name).sort() }).toEqual({ id, tags: atBefore });
      for (const t of got) {
        expect(t.rule).toMatch(/^[a-z-]+$/);
        expect(t.reason.length).toBeGreaterThan(0);
        seen.set(t.rule, (seen.get(t.rule) ?? 0) + 1);
      }
      compared++;
    }
    expect(compared).toBeGreaterThan(customers.length - 5);
    // The world is big enough for every rule to fire somewhere.
    expect([...seen.keys()].sort()).toEqual(['category-preference', 'high-activity', 'miniprogram-user', 'unhappy', 'vip']);
  });
});

describe('Golden fields: provenance over the API', () => {
  it('answers every golden field with the value its provenance shows', async () => {
    const { byId } = await ask(`name phone email gender birthday city province memberTier registeredAt registrationChannel
      marketingConsent { sms email wechat } provenance { field value source recordId rule rules candidates { value source recordId chosen } }`);
    let disagreements = 0;
    for (const id of customers.slice(0, 300)) {
      const c = byId.get(id);
      for (const p of c.provenance) {
        const [head, sub] = p.field.split('.');
        const v = sub ? c[head]?.[sub] : c[head];
        expect({ id, field: p.field, value: v === null || v === undefined ? null : String(v) }).toEqual({ id, field: p.field, value: p.value });
        const chosen = p.candidates.filter((x: any) => x.chosen);
        expect(chosen.length).toBe(p.value === null ? 0 : 1);
        if (chosen.length) expect([chosen[0].source, chosen[0].recordId]).toEqual([p.source, p.recordId]);
        if (new Set(p.candidates.map((x: any) => x.value)).size > 1) disagreements++;
      }
    }
    expect(disagreements).toBeGreaterThan(20);
  });

  it('refuses an unknown field name with BAD_USER_INPUT', async () => {
    const { body } = await world.query(`query Q($id: ID!) { customer(id: $id) { provenance(fields: ["city", "shoeSize"]) { field } } }`, { id: customers[0] });
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].message).toContain('"shoeSize"');
  });

  it('quotes at most 64 characters of each unknown field name, and five of them', async () => {
    const fields = ['city', 's'.repeat(100_000), ...Array.from({ length: 1000 }, (_, i) => `size${i}`)];
    const { body } = await world.query(`query Q($id: ID!, $fields: [String!]) { customer(id: $id) { provenance(fields: $fields) { field } } }`, { id: customers[0], fields });
    expect(body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'fields' });
    expect(body.errors[0].message).toMatch(new RegExp(`^unknown golden field "s{64}…", "size0", "size1", "size2", "size3", and 996 more; golden fields are `));
  });
});

describe('Timeline over the API', () => {
  const PAGE = `query T($id: ID!, $first: Int, $after: String) { customer(id: $id) { timeline(first: $first, after: $after) {
    edges { cursor node { id kind at source } } pageInfo { hasNextPage endCursor } gaps { source code } } } }`;

  it('walking it page by page yields exactly the events of one large page, in order, none twice', async () => {
    // The customers with the most events: those with the most records.
    const busiest = [...customers].sort((a, b) => Object.values(recordsOf.get(b)!).flat().length - Object.values(recordsOf.get(a)!).flat().length).slice(0, 8);
    for (const id of busiest) {
      const big = (await world.query(PAGE, { id, first: 100 })).body.data.customer.timeline;
      expect(big.gaps).toEqual([]);
      const walked: any[] = [];
      let after: string | null = null;
      for (let i = 0; i < 100; i++) {
        const { body } = await world.query(PAGE, { id, first: 7, after });
        expect(body.errors).toBeUndefined();
        const page = body.data.customer.timeline;
        walked.push(...page.edges);
        after = page.pageInfo.endCursor;
        if (!page.pageInfo.hasNextPage || walked.length >= big.edges.length) break;
      }
      expect(walked.length).toBeGreaterThan(7);
      // The large page holds at most 100 events: compare the walk over that stretch (all of it when the page was the whole timeline).
      const stretch = big.pageInfo.hasNextPage ? walked.slice(0, big.edges.length) : walked;
      expect(stretch.map((e) => e.node)).toEqual(big.edges.map((e: any) => e.node));
      expect(stretch.map((e) => e.cursor)).toEqual(big.edges.map((e: any) => e.cursor));
      expect(new Set(walked.map((e) => e.node.id)).size).toBe(walked.length);
      const times = walked.map((e) => Date.parse(e.node.at));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    }
  });

  it('refuses a cursor it did not hand out', async () => {
    const { body } = await world.query(PAGE, { id: customers[0], first: 5, after: 'not-a-cursor' });
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  // Last: the injected failures may leave the support breaker open for a while.
  it('reports a failing source as a gap with its coded error, keeps the other sources, and brings its events on the next page once it answers', async () => {
    const id = customers.find((c) => recordsOf.get(c)!.support.length && recordsOf.get(c)!.orders.length)!;
    const whole = (await world.query(PAGE, { id, first: 100 })).body.data.customer.timeline;
    expect(whole.pageInfo.hasNextPage).toBe(false);
    let missed: any;
    world.support.setFaults({ status: 500, paths: ['/api/v2/requesters/events'] });
    try {
      const { body } = await world.query(
        `query T($id: ID!) { customer(id: $id) { timeline(first: 100) { edges { node { id source } } pageInfo { hasNextPage endCursor } gaps { source code message error } } } }`,
        { id },
      );
      missed = body.data.customer.timeline;
      const t = body.data.customer.timeline;
      expect(t.gaps).toEqual([{ source: 'SUPPORT', code: 'SOURCE_UNAVAILABLE', message: expect.any(String), error: null }]);
      expect(t.edges.length).toBeGreaterThan(0);
      expect(t.edges.some((e: any) => e.node.source === 'SUPPORT')).toBe(false);
      expect(body.errors).toEqual([
        expect.objectContaining({
          path: ['customer', 'timeline', 'gaps', 0, 'error'],
          extensions: expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'support' }),
        }),
      ]);
    } finally {
      world.support.setFaults(undefined);
    }
    // The page said more may follow: its endCursor holds the helpdesk where it was, so paging on
    // brings exactly the helpdesk's events of that stretch, none of the others again.
    expect(missed.pageInfo.hasNextPage).toBe(true);
    const next = (await world.query(PAGE, { id, first: 100, after: missed.pageInfo.endCursor })).body.data.customer.timeline;
    expect(next.gaps).toEqual([]);
    const support = whole.edges.filter((e: any) => e.node.source === 'SUPPORT').map((e: any) => e.node.id);
    expect(support.length).toBeGreaterThan(0);
    expect(next.edges.map((e: any) => e.node.id)).toEqual(support);
    expect([...missed.edges, ...next.edges].map((e: any) => e.node.id).sort()).toEqual(whole.edges.map((e: any) => e.node.id).sort());
  });
});
