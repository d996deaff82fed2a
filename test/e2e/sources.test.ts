/**
 * Sources as plug-ins, end to end: the test world runs six systems (CRM, shop, helpdesk, WeChat
 * official account, WeCom, a marketplace shop), each through its own kind module and stand-in.
 * One customer present in all six answers one query with data from each; `orderSummary` counts
 * the orders of both shops, checked against an independent computation over both systems' raw
 * tables (not through any connector).
 */
import path from 'node:path';
import knex from 'knex';
import { readTruth, startTestWorld, type TestWorld } from '../helpers/world';
import { toDbTime } from '../../src/idmap/tables';

let world: TestWorld;
/** Customers OneID linked to records in all six systems. */
let allSix: string[];
/** Customers with records in both commerce sources. */
let bothShops: string[];

beforeAll(async () => {
  world = await startTestWorld({ people: 900, seed: 31 });
  const keys = [...readTruth(world.truthFile).values()].flat();
  const ids = [...new Set((await world.gw.idmap.customerIdsBySourceRecords(keys)).filter((id): id is string => id !== null))].sort();
  const linked = await world.gw.idmap.sourceRecordsByCustomerIds(ids);
  const sourcesOf = (i: number) => new Set(linked[i].map((r) => r.source));
  allSix = ids.filter((_, i) => sourcesOf(i).size === 6);
  bothShops = ids.filter((_, i) => sourcesOf(i).has('orders') && sourcesOf(i).has('marketplace'));
});

afterAll(async () => world?.close());

describe('Sources: six systems behind one Customer', () => {
  it('registers six instances of six kinds, each answering readiness', async () => {
    expect(world.gw.registry.sources.map((s) => [s.name, s.kind.kind])).toEqual([
      ['crm', 'crm'],
      ['orders', 'shop'],
      ['support', 'helpdesk'],
      ['scrm', 'wechat'],
      ...['marketplace', 'wecom'].filter((n) => world.gw.registry.get(n)).map((n) => [n, n]),
    ]);
    expect(world.gw.registry.sources).toHaveLength(6);
    const ready = (await (await fetch(`${world.url}/readyz`)).json()) as { checks: Record<string, string> };
    expect(Object.keys(ready.checks).sort()).toEqual(['crm', 'marketplace', 'oneid', 'orders', 'scrm', 'support', 'wecom']);
  });

  it('answers a customer present in all six systems with data from each, in one query', async () => {
    expect(allSix.length).toBeGreaterThan(0);
    const { body } = await world.query(
      `query($id: ID!) { customer(id: $id) {
        sourceRecords { source }
        crmContacts { source id } shopAccounts { source id } supportRequesters { source id } scrmFollowers { source openid }
        wecomContacts { source externalUserId follows { staffId } } marketplaceBuyers { source id channel }
        orders(first: 100) { source channel } tickets(first: 100) { source }
        engagement { source channel subscribed staff }
        timeline(first: 100) { edges { node { source kind } } gaps { source } }
      } }`,
      { id: allSix[0] },
    );
    expect(body.errors).toBeUndefined();
    const c = body.data.customer;
    expect(new Set(c.sourceRecords.map((r: any) => r.source))).toEqual(new Set(['CRM', 'ORDERS', 'SUPPORT', 'SCRM', 'WECOM', 'MARKETPLACE']));
    for (const [field, source] of [
      ['crmContacts', 'CRM'],
      ['shopAccounts', 'ORDERS'],
      ['supportRequesters', 'SUPPORT'],
      ['scrmFollowers', 'SCRM'],
      ['wecomContacts', 'WECOM'],
      ['marketplaceBuyers', 'MARKETPLACE'],
    ]) {
      expect({ field, n: c[field].length > 0, sources: [...new Set(c[field].map((x: any) => x.source))] }).toEqual({ field, n: true, sources: [source] });
    }
    expect(c.timeline.gaps).toEqual([]);
    // Engagement: one entry per record of every engagement source, the WeCom one with its staff.
    const channels = c.engagement.map((e: any) => `${e.source}:${e.channel}`).sort();
    expect(c.engagement).toHaveLength(c.scrmFollowers.length + c.wecomContacts.length);
    expect(new Set(channels)).toEqual(new Set(['SCRM:wechat_official_account', 'WECOM:wecom']));
    const wecom = c.engagement.find((e: any) => e.source === 'WECOM');
    expect(wecom.staff).toEqual(c.wecomContacts[0].follows.map((f: any) => f.staffId));
    // The timeline merges every source that has events for this customer, in one order.
    const timelineSources = new Set(c.timeline.edges.map((e: any) => e.node.source));
    for (const s of ['CRM', 'WECOM']) expect(timelineSources).toContain(s);
  });

  it("counts the orders of both shops in orderSummary, as the shops' own tables say", async () => {
    expect(bothShops.length).toBeGreaterThan(5);
    const asked = bothShops.slice(0, 40);
    const { body } = await world.query(
      `query($ids: [ID!]!) { customers(ids: $ids) { id sourceRecords { source recordId } orderSummary { orderCount totalSpent { amount currency } } orders(first: 100) { source } } }`,
      { ids: asked },
    );
    expect(body.errors).toBeUndefined();

    // Independently: the shop's SQL tables, and the marketplace's store as the platform keeps it.
    const shop = world.dbs.orders.db;
    const market = knex({ client: 'better-sqlite3', connection: { filename: path.join(path.dirname(world.truthFile), 'marketplace.sqlite') }, useNullAsDefault: true });
    try {
      for (const c of body.data.customers) {
        const accounts = c.sourceRecords.filter((r: any) => r.source === 'ORDERS').map((r: any) => Number(r.recordId));
        const buyers = c.sourceRecords.filter((r: any) => r.source === 'MARKETPLACE').map((r: any) => r.recordId);
        const shopOrders: any[] = await shop('orders').whereIn('account_id', accounts).whereNot('status', 'cancelled').select('order_id', 'total_cents');
        const shopRefunds: any[] = shopOrders.length
          ? await shop('refunds')
              .whereIn(
                'order_id',
                shopOrders.map((o) => o.order_id),
              )
              .select('amount_cents')
          : [];
        // The platform's trades not cancelled: closed by the platform, or closed before payment.
        const trades: any[] = await market('tb_trades')
          .whereIn('buyer_open_uid', buyers)
          .whereNot('status', 'TRADE_CLOSED_BY_TAOBAO')
          .whereNot((q) => q.where('status', 'TRADE_CLOSED').whereNull('pay_time'))
          .select('tid', 'payment');
        const tradeRefunds: any[] = trades.length
          ? await market('tb_refunds')
              .whereIn(
                'tid',
                trades.map((t) => t.tid),
              )
              .where('status', 'SUCCESS')
              .select('refund_fee')
          : [];
        const cents = (yuan: string) => Math.round(Number(yuan) * 100);
        const expectedCount = shopOrders.length + trades.length;
        const expectedCents =
          shopOrders.reduce((n, o) => n + Number(o.total_cents), 0) -
          shopRefunds.reduce((n, r) => n + Number(r.amount_cents), 0) +
          trades.reduce((n, t) => n + cents(t.payment), 0) -
          tradeRefunds.reduce((n, r) => n + cents(r.refund_fee), 0);
        const got = c.orderSummary;
        expect({ id: c.id, count: got?.orderCount ?? 0, cents: got ? cents(got.totalSpent.amount) : 0 }).toEqual({ id: c.id, count: expectedCount, cents: expectedCents });
        if (trades.length && shopOrders.length) expect(new Set(c.orders.map((o: any) => o.source))).toEqual(new Set(['ORDERS', 'MARKETPLACE']));
      }
    } finally {
      await market.destroy();
    }
  });

  it('leaves out the records of a source taken out of the config, and answers the customer', async () => {
    // OneID keeps what a removed instance linked: a record of it, with an identifier, on this customer.
    const db = world.dbs.oneid.db;
    const now = toDbTime(db, new Date().toISOString());
    const gone = { source: 'legacy_crm', record_id: 'L1' };
    await db('idmap_source_records').insert({ ...gone, customer_id: allSix[0], linked_at: now, source_updated_at: now, pending: false });
    await db('idmap_record_identifiers').insert({ ...gone, kind: 'EMAIL', value: 'legacy@example.com', match_key: 'legacy@example.com', valid_from: now });
    try {
      const { body } = await world.query('query($id: ID!) { customer(id: $id) { id sourceRecords { source recordId } identifiers { source value } } }', { id: allSix[0] });
      expect(body.errors).toBeUndefined();
      const c = body.data.customer;
      expect(c.id).toBe(allSix[0]);
      expect(new Set(c.sourceRecords.map((r: any) => r.source))).toEqual(new Set(['CRM', 'ORDERS', 'SUPPORT', 'SCRM', 'WECOM', 'MARKETPLACE']));
      expect(c.identifiers.length).toBeGreaterThan(0);
      expect(c.identifiers.map((i: any) => i.value)).not.toContain('legacy@example.com');
    } finally {
      await db('idmap_record_identifiers').where(gone).delete();
      await db('idmap_source_records').where(gone).delete();
    }
  });

  it('keeps the link history of a source taken out of the config readable: source is null with a coded error, sourceName names it', async () => {
    const db = world.dbs.oneid.db;
    const at = toDbTime(db, new Date().toISOString());
    const [id] = await db('idmap_link_events').insert(
      {
        at,
        actor: 'rule:email',
        action: 'link',
        customer_id: allSix[0],
        source: 'legacy_crm',
        record_id: 'L1',
        reason: 'shares an email',
        evidence: JSON.stringify({ kind: 'EMAIL' }),
      },
      ['id'],
    );
    const eventId = String(typeof id === 'object' ? id.id : id);
    try {
      const { body } = await world.query('query($id: ID!) { customer(id: $id) { id linkHistory(first: 100) { id action source sourceName recordId } } }', { id: allSix[0] });
      const history = body.data.customer.linkHistory as Array<{ id: string; action: string; source: string | null; sourceName: string | null; recordId: string }>;
      const i = history.findIndex((e) => e.id === eventId);
      expect(history[i]).toEqual({ id: eventId, action: 'LINK', source: null, sourceName: 'legacy_crm', recordId: 'L1' });
      expect(history.filter((e) => e.id !== eventId && e.sourceName).every((e) => e.source === e.sourceName!.toUpperCase())).toBe(true);
      expect(body.errors.map((e: any) => [e.extensions.code, e.extensions.source, e.path])).toEqual([
        ['SOURCE_NOT_CONFIGURED', 'legacy_crm', ['customer', 'linkHistory', i, 'source']],
      ]);
    } finally {
      await db('idmap_link_events').where({ id: eventId }).delete();
    }
  });

  it('keeps golden fields when one source fails: the others decide, and provenance names the one missing', async () => {
    const id = allSix[0];
    const query = `query($id: ID!) { customer(id: $id) { name city gender provenance(fields: ["name", "city"]) { field value source missingSources { source code } } } }`;
    const healthy = await world.query(query, { id });
    expect(healthy.body.errors).toBeUndefined();
    for (const p of healthy.body.data.customer.provenance) expect(p.missingSources).toEqual([]);

    world.scrm.setFaults({ status: 503 });
    try {
      const { body } = await world.query(query, { id });
      expect(body.errors).toBeUndefined();
      const c = body.data.customer;
      // The CRM knows this person's name and city; WeChat being down takes nothing away from that.
      expect(c.name).not.toBeNull();
      expect(c.city).not.toBeNull();
      for (const p of c.provenance) {
        expect(p.missingSources).toEqual([{ source: 'SCRM', code: 'SOURCE_UNAVAILABLE' }]);
        expect(p.source).not.toBe('SCRM');
      }
    } finally {
      world.scrm.setFaults({});
    }
  });

  it('reports in extensions.sources what each touched source cost and how its calls went', async () => {
    const query = `query($id: ID!) { customer(id: $id) { crmContacts { id } marketplaceBuyers { id } supportRequesters { id } tickets { id } } }`;
    world.reset();
    const { body } = await world.query(query, { id: allSix[0] });
    expect(body.errors).toBeUndefined();
    const counted: Record<string, number> = {};
    for (const c of world.calls.calls) counted[c.source] = (counted[c.source] ?? 0) + 1;
    const reported = body.extensions.sources as Record<string, { status: string; calls: number; ms: number }>;
    expect(Object.fromEntries(Object.entries(reported).map(([s, u]) => [s, u.calls]))).toEqual(counted);
    expect(Object.keys(reported).sort()).toEqual(['crm', 'marketplace', 'support']);
    for (const u of Object.values(reported)) expect(u.status).toBe('ok');

    world.support.setFaults({ status: 503 });
    try {
      const failed = await world.query(query, { id: allSix[0] });
      expect(failed.body.extensions.sources.support.status).toBe('unavailable');
      expect(failed.body.extensions.sources.crm.status).toBe('ok');
    } finally {
      world.support.setFaults({});
    }
  });

  it('books every source call to the request it was made for, however many run at once, a token refresh included', async () => {
    const query = `query($id: ID!) { customer(id: $id) { crmContacts { id } scrmFollowers { openid coupons { id } } tickets { id } marketplaceBuyers { id } } }`;
    const customers = allSix.slice(0, 4);
    expect(customers).toHaveLength(4);
    const callsOf = (body: any): Record<string, number> => Object.fromEntries(Object.entries(body.extensions.sources).map(([s, u]: [string, any]) => [s, u.calls]));
    const alone: Array<Record<string, number>> = [];
    for (const id of customers) alone.push(callsOf((await world.query(query, { id })).body));

    // At once, each request books what it booked alone: nothing of a neighbour's.
    const together = await Promise.all(customers.map((id) => world.query(query, { id })));
    expect(together.map((r) => callsOf(r.body))).toEqual(alone);

    // The official account refuses the token it handed out: the refresh (one call, made after an
    // await inside the connector) is booked to exactly one of the requests that needed it.
    world.scrm.expireTokens();
    world.reset();
    const refreshed = await Promise.all(customers.map((id) => world.query(query, { id })));
    const booked: Record<string, number> = {};
    for (const r of refreshed) for (const [s, n] of Object.entries(callsOf(r.body))) booked[s] = (booked[s] ?? 0) + n;
    const made: Record<string, number> = {};
    for (const c of world.calls.calls) made[c.source] = (made[c.source] ?? 0) + 1;
    expect(world.calls.of('scrm', 'token')).toHaveLength(1);
    expect(booked).toEqual(made);
  });
});
