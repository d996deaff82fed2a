/**
 * BI lists: customersConnection walks. Every active customer exactly once in pages of 500, with
 * totalCount equal to OneID's count of active customers; the same while identity resolution
 * links new records (and merges customers) in the middle of the walk. Page-size guards per role.
 */
import { startTestWorld, apiKeyFor, type TestWorld } from '../helpers/world';
import { runResolution } from '../../src/resolution';

let world: TestWorld;

beforeAll(async () => {
  world = await startTestWorld({ people: 1400, seed: 23 });
});
afterAll(() => world?.close());

const PAGE = `query Page($first: Int, $after: String, $filter: CustomerFilter, $orderBy: CustomerOrder) {
  customersConnection(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function activeIds(): Promise<string[]> {
  return (await world.gw.oneidDb('idmap_customers').where('status', 'active').orderBy('id').select('id')).map((r: { id: string }) => r.id);
}

async function walk(opts: { first?: number; filter?: unknown; orderBy?: string; between?: (page: number) => Promise<void> } = {}) {
  const ids: string[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const { status, body } = await world.query(PAGE, { first: opts.first ?? 500, after, filter: opts.filter, orderBy: opts.orderBy });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const c = body.data.customersConnection;
    totals.push(c.totalCount);
    ids.push(...c.edges.map((e: { node: { id: string } }) => e.node.id));
    if (!c.pageInfo.hasNextPage) return { ids, totals };
    after = c.pageInfo.endCursor;
    await opts.between?.(page);
  }
  throw new Error('the walk never ended');
}

describe('BI lists: customersConnection walk', () => {
  it('returns every active customer exactly once in pages of 500, and totalCount is the OneID count', async () => {
    const { ids, totals } = await walk();
    const active = await activeIds();
    expect(ids).toEqual(active);
    expect(new Set(totals)).toEqual(new Set([active.length]));
  });

  it('keeps that promise while a resolution run links new records and customers merge mid-walk', async () => {
    const before = await activeIds();
    // New CRM contacts: three of new people, three carrying the phone of existing customers late in id order.
    const phones: Array<{ customer_id: string; value: string }> = await world.gw
      .oneidDb('idmap_record_identifiers as i')
      .join('idmap_source_records as sr', (j) => j.on('sr.source', 'i.source').andOn('sr.record_id', 'i.record_id'))
      .whereNull('i.valid_to')
      .where('i.kind', 'PHONE')
      .whereNotNull('sr.customer_id')
      .orderBy('sr.customer_id', 'desc')
      .limit(50)
      .select('sr.customer_id', 'i.value');
    const known = [...new Map(phones.map((p) => [p.customer_id, p.value]))].slice(0, 3);
    expect(known).toHaveLength(3);
    // The CRM writes Shanghai local time; now, so the incremental scan after the last run sees them.
    const shanghaiNow = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
    const contact = (id: string, phone: string) => ({
      contact_id: id,
      name: null,
      mobile: phone,
      email: null,
      gender: null,
      birthday: null,
      province: null,
      city: null,
      member_no: null,
      tier: null,
      owner_rep: null,
      owner_team: null,
      sms_opt_in: null,
      email_opt_in: null,
      created_at: shanghaiNow,
      updated_at: shanghaiNow,
    });
    // Merges: a late customer into another late one (neither returned yet), and an early one (returned on page 1) into a late one.
    const lateA = before[before.length - 10];
    const lateB = before[before.length - 20];
    const early = before[5];
    const lateC = before[before.length - 30];

    const { ids } = await walk({
      between: async (page) => {
        if (page !== 0) return;
        await world.dbs.crm
          .db('crm_contacts')
          .insert([
            contact('C9900001', '+8617700000001'),
            contact('C9900002', '+8617700000002'),
            contact('C9900003', '+8617700000003'),
            ...known.map(([, phone], i) => contact(`C990001${i}`, phone)),
          ]);
        const stats = await runResolution(world.gw);
        expect(stats).toBeTruthy();
        await world.gw.idmap.mergeCustomers({ survivorId: lateB, mergedId: lateA, actor: 'user:test', reason: 'bi walk test' });
        await world.gw.idmap.mergeCustomers({ survivorId: lateC, mergedId: early, actor: 'user:test', reason: 'bi walk test' });
      },
    });
    const after = await activeIds();
    expect(after.filter((id) => !before.includes(id)).length).toBeGreaterThanOrEqual(3); // resolution made the new people customers
    expect(after).not.toContain(lateA);
    expect(after).not.toContain(early);
    expect(new Set(ids).size).toBe(ids.length); // nobody twice
    const returned = new Set(ids);
    expect(after.filter((id) => !returned.has(id))).toEqual([]); // every customer active at the end, new ones included
    expect(returned.has(lateA)).toBe(false); // merged away before it was reached
    expect(returned.has(early)).toBe(true); // returned while it was a customer
    expect(ids.filter((id) => id === lateC)).toHaveLength(1); // its survivor once
    const { totals } = await walk();
    expect(totals[0]).toBe(after.length);
  });

  it('pages a filtered list the same way: each match once, in id order, totalCount its size', async () => {
    const filter = { orders: { min: 1 } };
    const small = await walk({ first: 37, filter });
    const large = await walk({ first: 500, filter });
    expect(small.ids).toEqual(large.ids);
    expect([...small.ids].sort()).toEqual(small.ids);
    expect(small.totals[0]).toBe(small.ids.length);
  });

  it('walks a filter while customers merge and split between its pages: exactly the customers its first page planned, each once, while active', async () => {
    // The guarantee (docs/bi.md): a filtered walk lists the customers that matched when its first
    // page planned it, each once, as long as it is active when its page comes; who came to match
    // since (a merge's survivor, a record split off) is in walks started after.
    const filter = { orders: { min: 1 } };
    const planned = (await walk({ first: 500, filter })).ids;
    const everyone = await activeIds();
    const without = everyone.filter((id) => !planned.includes(id));
    expect(planned.length).toBeGreaterThan(300);
    const [a, b, c, d] = planned.slice(-4); // all past the first page of 100
    const early = planned[3]; // on the first page
    const x = without[without.length - 1]; // no counted order: not in the plan
    const records = async (id: string) => world.gw.oneidDb('idmap_source_records').where('customer_id', id).orderBy(['source', 'record_id']).select('source', 'record_id');
    let split: string | null = null;
    for (const id of planned.slice(150, -10)) {
      if ((await records(id)).length < 2) continue;
      split = id; // a customer of two records or more, past the first page: one record goes to a new customer
      break;
    }
    expect(split).not.toBeNull();
    let splitOff: string | null = null;

    const { ids } = await walk({
      first: 100,
      filter,
      between: async (page) => {
        if (page !== 0) return;
        const steward = { actor: 'user:test', reason: 'bi walk under change' };
        await world.gw.idmap.mergeCustomers({ survivorId: b, mergedId: a, ...steward }); // both ahead of the cursor
        await world.gw.idmap.mergeCustomers({ survivorId: c, mergedId: early, ...steward }); // the merged one already returned
        await world.gw.idmap.mergeCustomers({ survivorId: x, mergedId: d, ...steward }); // the survivor matches only now
        const [moved] = await records(split!);
        const out = await world.gw.requestDeps.stewardship!.unlinkRecord({ record: { source: moved.source, recordId: moved.record_id }, ...steward });
        splitOff = out.customerId;
      },
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(planned.filter((id) => id !== a && id !== d));
    expect(ids).not.toContain(x);
    expect(splitOff).not.toBeNull();
    expect(ids).not.toContain(splitOff);
    // A walk started now plans again: the survivor that came to match is in it, the merged away are not.
    const again = (await walk({ first: 500, filter })).ids;
    expect(again).toContain(x);
    for (const gone of [a, d, early]) expect(again).not.toContain(gone);
  });

  it('orders by lifetime value, highest first, each customer once', async () => {
    const { ids } = await walk({ first: 200, filter: { orders: { min: 1 } }, orderBy: 'LIFETIME_VALUE_DESC' });
    const byId = await walk({ first: 500, filter: { orders: { min: 1 } } });
    expect([...ids].sort()).toEqual(byId.ids);
    const q = `query($ids: [ID!]!) { customers(ids: $ids) { id orderSummary { lifetimeValue { amount } } } }`;
    const head = ids.slice(0, 50);
    const { body } = await world.query(q, { ids: head });
    const values = body.data.customers.map((c: { orderSummary: { lifetimeValue: { amount: string } } | null }) => Number(c.orderSummary?.lifetimeValue.amount ?? 0));
    expect(values).toEqual([...values].sort((a: number, b: number) => b - a));
  });

  it('filters commerce facts across both commerce sources as each customer’s order summary states them', async () => {
    const all = (await walk()).ids;
    const summaries = new Map<string, { ltv: number; last90: number }>();
    for (let i = 0; i < all.length; i += 500) {
      const { body } = await world.query(`query($ids: [ID!]!) { customers(ids: $ids) { id orderSummary { lifetimeValue { amount } ordersLast90Days } } }`, {
        ids: all.slice(i, i + 500),
      });
      expect(body.errors).toBeUndefined();
      for (const c of body.data.customers) summaries.set(c.id, { ltv: Number(c.orderSummary?.lifetimeValue.amount ?? 0), last90: c.orderSummary?.ordersLast90Days ?? 0 });
    }
    const ltv = await walk({ filter: { lifetimeValue: { min: 500 } } });
    expect(ltv.ids).toEqual(all.filter((id) => summaries.get(id)!.ltv >= 500));
    const recent = await walk({ filter: { orders: { withinDays: 90 } } });
    expect(recent.ids).toEqual(all.filter((id) => summaries.get(id)!.last90 >= 1));
  });

  it('estimates a listing pushdown by its pages, and answers other windows from the listing kept for a minute', async () => {
    const PLAN = `query($f: CustomerFilter) { customersConnection(first: 10, filter: $f) { totalCount plan {
      steps { filter strategy sources { source estimatedCalls actualCalls } } } } }`;
    const sourceStep = async (filter: unknown, source: string) => {
      const { body } = await world.query(PLAN, { f: filter });
      expect(body.errors).toBeUndefined();
      const steps = body.data.customersConnection.plan.steps as Array<{
        filter: string;
        strategy: string;
        sources: Array<{ source: string; estimatedCalls: number; actualCalls: number }>;
      }>;
      return steps.flatMap((s) => s.sources.filter((x) => x.source === source).map((x) => ({ ...x, strategy: s.strategy })))[0];
    };
    // A change notice drops what the listing sources keep (their webhook path re-reads records).
    const drop = () => Promise.all(['marketplace', 'wecom'].map((s) => world.gw.registry.get(s)!.connector.scanRecords?.([])));
    await drop();
    const cold = await sourceStep({ orders: { min: 2, withinDays: 365 } }, 'marketplace');
    // The whole trade and refund listings: several pages, estimated from the pages the last listing took.
    expect(cold.strategy).toBe('pushdown');
    expect(cold.actualCalls).toBeGreaterThan(2);
    await drop();
    const again = await sourceStep({ orders: { min: 1, withinDays: 90 } }, 'marketplace');
    expect(again.estimatedCalls).toBe(again.actualCalls);
    expect(again.actualCalls).toBe(cold.actualCalls);
    // Kept: another window, channel or category makes no call and says so in the estimate.
    const kept = await sourceStep({ orders: { min: 1, channel: 'tmall', since: '2020-01-01T00:00:00Z' } }, 'marketplace');
    expect([kept.estimatedCalls, kept.actualCalls]).toEqual([0, 0]);
    // WeCom's contact listing likewise.
    await drop();
    await sourceStep({ staffContact: true }, 'wecom');
    const listed = await sourceStep({ subscribed: true }, 'wecom');
    expect([listed.strategy, listed.estimatedCalls, listed.actualCalls]).toEqual(['pushdown', 0, 0]);
    await drop();
    const relisted = await sourceStep({ subscribed: true }, 'wecom');
    expect(relisted.actualCalls).toBeGreaterThan(0);
    expect(relisted.estimatedCalls).toBe(relisted.actualCalls);
  });

  it('runs a cold listing that a later condition needs alongside the conditions answered whole, and still counts every call in the plan', async () => {
    const PLAN = `query($f: CustomerFilter) { customersConnection(first: 10, filter: $f) { totalCount plan { actualCalls
      steps { filter strategy candidates matched sources { source estimatedCalls actualCalls } } } } }`;
    const filter = { orders: { min: 2, withinDays: 365 }, subscribed: true };
    await Promise.all(['marketplace', 'wecom'].map((s) => world.gw.registry.get(s)!.connector.scanRecords?.([])));
    world.reset();
    const cold = (await world.query(PLAN, { f: filter })).body.data.customersConnection;
    const calls = world.calls.calls.map((c) => c.source);
    // WeCom's contact listing started before the marketplace's trade listing was done (the order calls were made in).
    expect(calls.indexOf('wecom')).toBeGreaterThanOrEqual(0);
    expect(calls.indexOf('wecom')).toBeLessThan(calls.lastIndexOf('marketplace'));
    // Every call is in the plan, under the step that made it; the listing's estimate is its pages.
    expect(cold.plan.actualCalls).toBe(calls.length);
    const bySource = (source: string) =>
      cold.plan.steps.flatMap((s: { sources: Array<{ source: string; actualCalls: number }> }) => s.sources.filter((x) => x.source === source));
    for (const source of new Set(calls))
      expect(bySource(source).reduce((n: number, x: { actualCalls: number }) => n + x.actualCalls, 0)).toBe(calls.filter((c) => c === source).length);
    const listing = cold.plan.steps.find((s: { filter: string; strategy: string }) => s.filter === 'subscribed' && s.strategy === 'pushdown');
    expect(listing.sources[0].actualCalls).toBeGreaterThan(0);
    // The followers are read only for the candidates WeCom did not settle.
    const orders = cold.plan.steps.filter((s: { filter: string }) => s.filter === 'orders')[0];
    const read = cold.plan.steps.find((s: { filter: string; strategy: string }) => s.filter === 'subscribed' && s.strategy === 'verify');
    expect(read.candidates).toBeLessThan(orders.matched);
    // The same answer as from the kept listings.
    const warm = (await world.query(PLAN, { f: filter })).body.data.customersConnection;
    expect(warm.totalCount).toBe(cold.totalCount);
    expect(listing.matched).toBe(cold.totalCount);
  });

  it('refuses a page larger than the role allows, naming the argument, before any source call', async () => {
    world.reset();
    const { body } = await world.query(PAGE, { first: 501 }, { 'x-api-key': apiKeyFor('marketing') });
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].extensions.argument).toBe('first');
    expect(world.calls.calls).toHaveLength(0);
  });

  it('refuses a cursor from another order', async () => {
    const { body } = await world.query(PAGE, { first: 2 });
    const cursor = body.data.customersConnection.pageInfo.endCursor;
    const bad = await world.query(PAGE, { first: 2, after: cursor, orderBy: 'LIFETIME_VALUE_DESC' });
    expect(bad.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });
});
