/**
 * Timeline pushdown and paging against the real stores (C360_TEST_DB) and the HTTP stand-ins.
 * Each source holds hand-written events full of ties: several events in one second or one
 * millisecond, across kinds and within one kind, ids 9 and 10 side by side (text order and
 * numeric order disagree), positions that fall inside a second. For every position a client
 * can hold, each connector must answer exactly the brute-force "newest `limit` events after
 * it" per key, in one call; and walking a customer's timeline page by page must yield exactly
 * one large page.
 */
import { createCrmTables, createOrderTables, createScrmTables, createSupportTables } from '../../demo/schema';
import { startScrmServer, type ScrmServer } from '../../demo/scrm-server';
import { startSupportServer, type SupportServer } from '../../demo/support-server';
import { isSourceError } from '../../src/errors';
import type { IdMapReader } from '../../src/idmap/types';
import { createLoaders } from '../../src/loaders';
import { createCrmConnector } from '../../src/sources/crm/connector';
import { CallRecorder } from '../../src/sources/observe';
import { createShopConnector } from '../../src/sources/shop/connector';
import { createWechatConnector } from '../../src/sources/wechat/connector';
import { createHelpdeskConnector } from '../../src/sources/helpdesk/connector';
import { CRM_EVENTS } from '../../src/sources/crm/connector';
import { SHOP_EVENTS } from '../../src/sources/shop/connector';
import { HELPDESK_EVENTS } from '../../src/sources/helpdesk/connector';
import { WECHAT_EVENTS } from '../../src/sources/wechat/connector';
import { registryOf } from '../../src/sources/registry';
import type { CrmConnector } from '../../src/sources/crm/types';
import type { ShopConnector } from '../../src/sources/shop/types';
import type { HelpdeskConnector } from '../../src/sources/helpdesk/types';
import type { WechatConnector } from '../../src/sources/wechat/types';
import type { TimelinePosition } from '../../src/timeline/merge';

type Connectors = { crm: CrmConnector; orders: ShopConnector; support: HelpdeskConnector; scrm: WechatConnector };
/** Each demo source's own event kinds. */
const OWN: Record<string, readonly string[]> = { crm: CRM_EVENTS, orders: SHOP_EVENTS, support: HELPDESK_EVENTS, scrm: WECHAT_EVENTS };
const EVENT_KINDS = Object.values(OWN).flat().sort();
const loadersOf = (idmap: IdMapReader, c: Connectors) =>
  createLoaders({
    idmap,
    registry: registryOf([
      { name: 'crm', kind: 'crm', connector: c.crm },
      { name: 'orders', kind: 'shop', connector: c.orders },
      { name: 'support', kind: 'helpdesk', connector: c.support },
      { name: 'scrm', kind: 'wechat', connector: c.scrm },
    ]),
  });
import { type EventKind, type EventPosition, type EventQuery, type SourceEvent, type SourceName, type ListSlot } from '../../src/vocabulary';
import { decodeCursor, encodeCursor } from '../../src/timeline/cursor';
import { compareEvents, isAfter, kindsWanted } from '../../src/vocabulary/event-order';
import { timelinePage } from '../../src/timeline/page';
import { freshDatabase, type TestDatabase } from '../helpers/db';

const T0 = Date.UTC(2024, 2, 1, 0, 0, 0);
const S = 1000;
const iso = (ms: number) => new Date(ms).toISOString();
const isoSeconds = (ms: number) => iso(ms).replace(/\.\d{3}Z$/, 'Z');
const shanghai = (ms: number) =>
  iso(ms + 8 * 3600 * S)
    .slice(0, 19)
    .replace('T', ' ');
const unix = (ms: number) => Math.floor(ms / S);

const contact = (id: string, createdMs: number) => ({
  contact_id: id,
  name: null,
  mobile: null,
  email: null,
  gender: null,
  birthday: null,
  province: null,
  city: null,
  member_no: null,
  tier: 'silver',
  owner_rep: null,
  owner_team: null,
  sms_opt_in: null,
  email_opt_in: null,
  created_at: shanghai(createdMs),
  updated_at: shanghai(createdMs),
});

const follower = (openid: string, subscribeMs: number, unsubscribeMs: number | null) => ({
  openid,
  unionid: null,
  nickname: null,
  sex: 0,
  city: null,
  province: null,
  country: null,
  subscribe: unsubscribeMs === null ? 1 : 0,
  subscribe_time: unix(subscribeMs),
  unsubscribe_time: unsubscribeMs === null ? null : unix(unsubscribeMs),
  tagid_list: '',
  bound_phone: null,
  member_no: null,
  updated_at: unix(subscribeMs),
});

const ticket = (id: number, requester: number, createdMs: number, solvedMs: number | null, score: number | null) => ({
  id,
  requester_id: requester,
  subject: `ticket ${id}`,
  status: solvedMs === null ? 'open' : 'solved',
  priority: 'normal',
  channel: 'email',
  satisfaction_score: score,
  created_at: isoSeconds(createdMs),
  updated_at: isoSeconds(solvedMs ?? createdMs),
  solved_at: solvedMs === null ? null : isoSeconds(solvedMs),
});

let dbs: TestDatabase[] = [];
let support: SupportServer;
let scrm: ScrmServer;
let recorder: CallRecorder;
let connectors: Connectors;

/** Each source's keys for the one customer of this file. */
const KEYS: Record<SourceName, string[]> = { crm: ['C0000001', 'C0000002'], orders: ['1', '2'], support: ['1', '2'], scrm: ['oA', 'oB'] };

beforeAll(async () => {
  const [crmDb, ordersDb, supportDb, scrmDb] = (dbs = await Promise.all(['crm', 'orders', 'support', 'scrm'].map((l) => freshDatabase(l))));

  await createCrmTables(crmDb.db);
  await crmDb.db('crm_contacts').insert([contact('C0000001', T0), contact('C0000002', T0 + 60 * S)]);
  await crmDb.db('crm_tier_changes').insert([
    { change_id: 1, contact_id: 'C0000001', from_tier: null, to_tier: 'bronze', changed_at: shanghai(T0) },
    { change_id: 9, contact_id: 'C0000001', from_tier: 'bronze', to_tier: 'silver', changed_at: shanghai(T0 + 60 * S) },
    { change_id: 10, contact_id: 'C0000001', from_tier: 'silver', to_tier: 'gold', changed_at: shanghai(T0 + 60 * S) },
    { change_id: 11, contact_id: 'C0000002', from_tier: null, to_tier: 'bronze', changed_at: shanghai(T0 + 60 * S) },
  ]);

  await createOrderTables(ordersDb.db);
  await ordersDb.db('shop_accounts').insert([
    { account_id: 1, mobile: null, member_no: null, email: null, channel: 'tmall', registered_at: T0, updated_at: T0 },
    { account_id: 2, mobile: null, member_no: null, email: null, channel: 'jd', registered_at: T0 + 60 * S + 500, updated_at: T0 },
  ]);
  const order = (id: number, account: number, placed: number, paid: number | null) => ({
    order_id: id,
    account_id: account,
    status: 'completed',
    channel: 'tmall',
    total_cents: 1000 * id,
    currency: 'CNY',
    placed_at: placed,
    paid_at: paid,
  });
  await ordersDb
    .db('orders')
    .insert([
      order(9, 1, T0 + 60 * S, T0 + 60 * S + 500),
      order(10, 1, T0 + 60 * S, null),
      order(11, 1, T0 + 120 * S, T0 + 120 * S),
      order(12, 2, T0 + 60 * S + 500, T0 + 60 * S + 500),
    ]);
  await ordersDb.db('refunds').insert([{ refund_id: 5, order_id: 9, amount_cents: 500, reason: 'size', refunded_at: T0 + 180 * S }]);

  await createSupportTables(supportDb.db);
  await supportDb.db('support_users').insert([
    { id: 1, name: null, email: null, phone: null, created_at: isoSeconds(T0), updated_at: isoSeconds(T0) },
    { id: 2, name: null, email: null, phone: null, created_at: isoSeconds(T0), updated_at: isoSeconds(T0) },
  ]);
  await supportDb.db('support_tickets').insert([
    ticket(10, 1, T0, T0 + 60 * S, 1), // solved and rated in the same second
    ticket(9, 1, T0 + 60 * S, null, null), // opened in that second too
    ticket(11, 2, T0, null, null),
  ]);

  await createScrmTables(scrmDb.db);
  await scrmDb.db('scrm_followers').insert([follower('oA', T0, null), follower('oB', T0, T0 + 60 * S)]);
  await scrmDb.db('scrm_coupons').insert([
    { coupon_id: 'CP2', openid: 'oA', title: 'ten off', value: '10.00', status: 'used', received_at: unix(T0 + 60 * S), redeemed_at: unix(T0 + 120 * S) },
    { coupon_id: 'CP1', openid: 'oA', title: 'five off', value: '5', status: 'unused', received_at: unix(T0 + 60 * S), redeemed_at: null },
  ]);
  await scrmDb.db('scrm_group_members').insert([
    { openid: 'oA', chat_id: 'chat1', chat_name: 'VIP', join_time: unix(T0 + 120 * S) },
    { openid: 'oA', chat_id: 'chat2', chat_name: 'Shanghai', join_time: unix(T0 + 120 * S) },
  ]);

  support = await startSupportServer({ db: supportDb.db, token: 't' });
  scrm = await startScrmServer({ db: scrmDb.db, appId: 'wx', appSecret: 's' });
  recorder = new CallRecorder();
  connectors = {
    crm: createCrmConnector({ connection: crmDb.connection, timeoutMs: 30_000 }, recorder),
    orders: createShopConnector({ connection: ordersDb.connection, timeoutMs: 30_000 }, recorder),
    support: createHelpdeskConnector({ baseUrl: support.url, token: 't', retries: 0, timeoutMs: 30_000 }, recorder),
    scrm: createWechatConnector({ baseUrl: scrm.url, appId: 'wx', appSecret: 's', retries: 0, timeoutMs: 30_000 }, recorder),
  };
});

afterAll(async () => {
  await Promise.all(Object.values(connectors ?? {}).map((c) => c.close()));
  await support?.close();
  await scrm?.close();
  await Promise.all(dbs.map((d) => d.drop()));
});

function eventsOf(source: SourceName, keys: string[], q: EventQuery): Promise<Array<ListSlot<SourceEvent>>> {
  switch (source) {
    case 'crm':
      return connectors.crm.eventsByRecordIds!(keys, q);
    case 'orders':
      return connectors.orders.eventsByRecordIds!(keys, q);
    case 'support':
      return connectors.support.eventsByRecordIds!(keys, q);
    case 'scrm':
      return connectors.scrm.eventsByRecordIds!(keys, q);
  }
  throw new Error(`no such source ${source}`);
}

function values(lists: Array<ListSlot<SourceEvent>>): SourceEvent[][] {
  return lists.map((l) => {
    if (isSourceError(l)) throw l;
    return l.map((e) => {
      if (isSourceError(e)) throw e;
      return e;
    });
  });
}

const everything = (limit = 1000): EventQuery => ({ after: null, since: null, kinds: null, limit });

/** Ids no source made, around the real ones in shortlex order: the SQL bounds must still be exact. */
const ODD_IDS = ['', '0', '09', '1', '9', '9~', '10', '1 0', 'A', 'C0000001', 'C0000002', 'C00000015', 'oA', 'oB', 'CP1', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'];

/** Every position worth testing: each event's own, every kind at each instant, and instants inside a second. */
function positionsAround(events: SourceEvent[]): EventPosition[] {
  const out: EventPosition[] = events.map((e) => ({ at: e.at, kind: e.kind, id: e.id }));
  const instants = [...new Set(events.map((e) => Date.parse(e.at)))];
  for (const t of instants) {
    for (const kind of EVENT_KINDS) for (const id of ODD_IDS) out.push({ at: iso(t), kind, id });
    out.push({ at: iso(t + 500), kind: 'order_paid', id: '10' }, { at: iso(t - 1), kind: 'tier_changed', id: '1' }, { at: iso(t + 1), kind: 'account_registered', id: '1' });
  }
  return out;
}

describe.each(['crm', 'orders', 'support', 'scrm'] as SourceName[])('Timeline pushdown: %s', (source) => {
  let full: SourceEvent[][];

  beforeAll(async () => {
    full = values(await eventsOf(source, KEYS[source], everything()));
  });

  it('answers every key its events, newest first in the timeline order, only its own kinds', () => {
    expect(full.every((l) => l.length > 0)).toBe(true);
    for (const list of full) {
      expect([...list].sort(compareEvents)).toEqual(list);
      for (const e of list) expect(kindsWanted(OWN[source], null)).toContain(e.kind);
    }
    expect(full.flat().length).toBeGreaterThanOrEqual(4);
  });

  // One call for each position around every event and each of three limits: its time is the machine's load
  // (scrm: 13.5 s at a load of 12-25 on 2 cores, past jest's 60 s at 37). A hung call fails by its connector's
  // 30 s deadline above, so the test's own bound is only a backstop: ten minutes.
  it('answers exactly the newest `limit` events after any position, per key, in one call', async () => {
    const positions = positionsAround(full.flat());
    for (const after of positions) {
      for (const limit of [1, 2, 5]) {
        recorder.reset();
        const got = values(await eventsOf(source, KEYS[source], { after, since: null, kinds: null, limit }));
        const want = full.map((l) => l.filter((e) => isAfter(e, after)).slice(0, limit));
        expect({ after, limit, got }).toEqual({ after, limit, got: want });
        expect(recorder.of(source).filter((c) => c.operation !== 'token')).toHaveLength(1);
      }
    }
  }, 600_000);

  it('applies since and kinds in the source', async () => {
    const instants = [...new Set(full.flat().map((e) => e.at))];
    for (const since of [...instants, iso(Date.parse(instants[0]) + 1)]) {
      const got = values(await eventsOf(source, KEYS[source], { after: null, since, kinds: null, limit: 100 }));
      expect(got).toEqual(full.map((l) => l.filter((e) => Date.parse(e.at) >= Date.parse(since))));
    }
    for (const kind of kindsWanted(OWN[source], null)) {
      const got = values(await eventsOf(source, KEYS[source], { after: null, since: null, kinds: [kind], limit: 100 }));
      expect(got).toEqual(full.map((l) => l.filter((e) => e.kind === kind)));
    }
  });

  it('answers [] for unknown keys and never asks about kinds it does not own', async () => {
    recorder.reset();
    const other = EVENT_KINDS.filter((k) => !kindsWanted(OWN[source], null).includes(k));
    expect(await eventsOf(source, KEYS[source], { ...everything(), kinds: other })).toEqual(KEYS[source].map(() => []));
    expect(recorder.calls).toHaveLength(0);
    const unknown = source === 'crm' ? 'C9999999' : source === 'scrm' ? 'oNobody' : '999';
    expect(values(await eventsOf(source, [unknown, KEYS[source][0]], everything()))).toEqual([[], full[0]]);
  });
});

/** A OneID reader that knows one customer, `cust`, owning every record above. */
const idmap = {
  sourceRecordsByCustomerIds: async (ids: readonly string[]) =>
    ids.map((id) =>
      id !== 'cust'
        ? []
        : (Object.keys(KEYS) as SourceName[]).flatMap((source) =>
            KEYS[source].map((recordId) => ({ customerId: id, source, recordId, linkedAt: iso(T0), sourceUpdatedAt: null })),
          ),
    ),
} as unknown as IdMapReader;

describe('Timeline paging: one customer across four sources', () => {
  async function walk(first: number, since: string | null, kinds: EventKind[] | null): Promise<SourceEvent[]> {
    const out: SourceEvent[] = [];
    let after: TimelinePosition | null = null;
    for (let pages = 0; pages < 100; pages++) {
      // A fresh request per page, as a client's next request would be.
      const page = await timelinePage(loadersOf(idmap, connectors), 'cust', { first, after, since, kinds });
      expect(page.gaps).toEqual([]);
      out.push(...page.events);
      if (!page.hasNextPage) return out;
      after = decodeCursor(encodeCursor(page.events[page.events.length - 1]));
    }
    throw new Error('timeline did not end');
  }

  it.each([
    [1, null, null],
    [2, null, null],
    [3, null, null],
    [7, null, null],
    [2, iso(T0 + 60 * S), null],
    [2, null, ['tier_changed', 'order_placed', 'ticket_rated', 'coupon_received'] as EventKind[]],
  ])('pages of %i (since %s, kinds %j) are exactly one large page, in order, none twice', async (first, since, kinds) => {
    const big = await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 100, after: null, since, kinds });
    expect(big.hasNextPage).toBe(false);
    expect(big.events.length).toBeGreaterThan(first);
    const walked = await walk(first, since, kinds);
    expect(walked).toEqual(big.events);
    expect(new Set(walked.map((e) => `${e.kind}:${e.id}`)).size).toBe(walked.length);
  });

  it('asks every source once per page, for at most first + 1 events per key', async () => {
    recorder.reset();
    await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 3, after: null, since: null, kinds: null });
    const ops = recorder.calls.filter((c) => c.operation !== 'token').map((c) => `${c.source}.${c.operation}:${c.batchSize}`);
    expect(ops.sort()).toEqual(['crm.eventsByRecordIds:2', 'orders.eventsByRecordIds:2', 'scrm.eventsByRecordIds:2', 'support.eventsByRecordIds:2']);
  });

  it('reports a failed source as a gap and still pages through the others', async () => {
    support.setFaults({ status: 503, paths: ['/api/v2/requesters/events'] });
    try {
      const page = await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 50, after: null, since: null, kinds: null });
      expect(page.gaps.map((g) => [g.source, g.code])).toEqual([['support', 'SOURCE_UNAVAILABLE']]);
      expect(page.gaps[0].error.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'support' });
      expect(page.events.length).toBeGreaterThan(0);
      expect(page.events.some((e) => e.source === 'support')).toBe(false);
      expect(new Set(page.events.map((e) => e.source))).toEqual(new Set(['crm', 'orders', 'scrm']));
    } finally {
      support.setFaults(undefined);
    }
  });
});

describe('Timeline paging: a source down for some pages of a walk', () => {
  const key = (e: SourceEvent & { source: SourceName }) => `${e.source}:${e.kind}:${e.id}`;

  /**
   * Walks the timeline as a client does (each page after the last page's endCursor, sealed and
   * opened again; an empty page with a gap asked again), the helpdesk failing for the pages
   * numbered in `down` (0 = the first page).
   */
  async function walkWithOutage(first: number, down: number[]) {
    const pages: Array<{ events: string[]; gaps: string[]; calls: string[] }> = [];
    let after: string | null = null;
    for (let n = 0; n < 100; n++) {
      support.setFaults(down.includes(n) ? { status: 503, paths: ['/api/v2/requesters/events'] } : undefined);
      recorder.reset();
      try {
        const page = await timelinePage(loadersOf(idmap, connectors), 'cust', { first, after: after === null ? null : decodeCursor(after), since: null, kinds: null });
        const calls = recorder.calls.filter((c) => c.operation !== 'token').map((c) => `${c.source}.${c.operation}`);
        pages.push({ events: page.events.map(key), gaps: page.gaps.map((g) => `${g.source}:${g.code}`), calls: calls.sort() });
        // An empty page missing a source has no endCursor: the client asks again with the same cursor, later.
        if (!page.events.length && page.gaps.length) continue;
        if (!page.hasNextPage) return pages;
        after = encodeCursor(page.cursors[page.cursors.length - 1]);
      } finally {
        support.setFaults(undefined);
      }
    }
    throw new Error('timeline did not end');
  }

  it.each([
    [1, 'first'],
    [2, 'first'],
    [2, 'every'],
    [3, 'every'],
    [1, 'every'],
  ] as const)('pages of %i, the helpdesk down for the %s page holding its events: every event exactly once, the missing ones once it answers', async (first, which) => {
    const big = await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 100, after: null, since: null, kinds: null });
    expect(big.hasNextPage).toBe(false);
    // The pages of an undisturbed walk that hold helpdesk events: the outage falls where it hides some.
    const holding = (await walkWithOutage(first, [])).flatMap((p, n) => (p.events.some((e) => e.startsWith('support:')) ? [n] : []));
    expect(holding.length).toBeGreaterThan(0);
    const down = which === 'first' ? holding.slice(0, 1) : holding;
    const pages = await walkWithOutage(first, down);
    const walked = pages.flatMap((p) => p.events);
    // None lost (the helpdesk's events past the cursor were never seen while it was down), none twice.
    expect([...walked].sort()).toEqual(big.events.map(key).sort());
    expect(new Set(walked).size).toBe(walked.length);
    pages.forEach((p, n) => {
      expect(p.gaps).toEqual(down.includes(n) ? ['support:SOURCE_UNAVAILABLE'] : []);
      if (down.includes(n)) expect(p.events.filter((e) => e.startsWith('support:'))).toEqual([]);
      // Each page still asks every source once.
      expect(p.calls).toEqual(['crm.eventsByRecordIds', 'orders.eventsByRecordIds', 'scrm.eventsByRecordIds', 'support.eventsByRecordIds']);
    });
  });

  it('says more may follow on a last page the helpdesk missed, and leaves the cursor at the helpdesk’s place', async () => {
    support.setFaults({ status: 503, paths: ['/api/v2/requesters/events'] });
    try {
      const page = await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 100, after: null, since: null, kinds: null });
      expect(page.gaps.map((g) => g.source)).toEqual(['support']);
      expect(page.hasNextPage).toBe(true);
      const end = decodeCursor(encodeCursor(page.cursors[page.cursors.length - 1]))!;
      expect(end.places).toEqual([{ source: 'support', after: null }]);
      // Still down: the next page is empty, says the gap again, and ends the walk.
      const next = await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 100, after: end, since: null, kinds: null });
      expect([next.events, next.hasNextPage, next.gaps.map((g) => g.source)]).toEqual([[], false, ['support']]);
    } finally {
      support.setFaults(undefined);
    }
    // Back: the same cursor brings the helpdesk's events, and only them.
    const page = await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 100, after: null, since: null, kinds: null });
    const all = page.events.filter((e) => e.source === 'support').map(key);
    const down = await (async () => {
      support.setFaults({ status: 503, paths: ['/api/v2/requesters/events'] });
      try {
        return await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 100, after: null, since: null, kinds: null });
      } finally {
        support.setFaults(undefined);
      }
    })();
    const resumed = await timelinePage(loadersOf(idmap, connectors), 'cust', { first: 100, after: down.cursors[down.cursors.length - 1], since: null, kinds: null });
    expect(resumed.gaps).toEqual([]);
    expect(resumed.events.map(key)).toEqual(all);
  });
});
