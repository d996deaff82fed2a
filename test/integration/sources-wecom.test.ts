import fs from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import DataLoader from 'dataloader';
import { graphql } from 'graphql';
import knex, { type Knex } from 'knex';
import { system } from '../../demo/systems/wecom';
import { present, rowsFor } from '../../demo/systems/wecom/rows';
import { createTables } from '../../demo/systems/wecom/schema';
import { Rng, generatePeople, parseAsOf } from '../../demo/world';
import { PATHS, startWecomServer, type WecomServer } from '../../demo/systems/wecom/server';
import { SourceRowError } from '../../src/errors';
import { failure, lists, readRecords } from '../helpers/source-failure';
import { CallRecorder } from '../../src/sources/observe';
import type { KindContext } from '../../src/sources/kind';
import { kind, type WecomConnector, type WecomContact } from '../../src/sources/wecom';
import type { Engagement } from '../../src/capabilities';
import type { ScannedRecord } from '../../src/vocabulary';
import { tempDir } from '../helpers/tmp';

const CORP_ID = 'wwtest0corp';
const CORP_SECRET = 'test-wecom-secret';

/** external_userids as WeCom makes them: 'wm' + 30 url-safe characters. */
const xid = (n: number) => `wm${'Tst'.padEnd(26, 'x')}${String(n).padStart(4, '0')}`;
const A = xid(1);
const B = xid(2);
const BROKEN = xid(3);
const UNKNOWN = xid(9999);
const MANY = Array.from({ length: 25 }, (_, i) => xid(100 + i));

const contact = (id: string, over: Record<string, unknown> = {}) => ({
  external_userid: id,
  name: 'nick',
  type: 1,
  gender: 0,
  unionid: null,
  avatar: 'http://wx.qlogo.cn/mmhead/x/0',
  corp_name: null,
  ...over,
});
const follow = (id: string, userid: string, over: Record<string, unknown> = {}) => ({
  external_userid: id,
  userid,
  remark: '',
  description: '',
  createtime: 1_700_000_000,
  tag_ids: '[]',
  remark_corp_name: '',
  remark_mobiles: '[]',
  add_way: 1,
  oper_userid: id,
  state: '',
  ...over,
});

/** A small corp: A is followed by two staff members who each noted a phone their own way; B by one; BROKEN has an unreadable createtime. */
const contacts = [
  contact(A, { name: '小鱼儿', gender: 2, unionid: 'oUnionA0000000000000000000000' }),
  contact(B, { name: 'Lei', gender: 1 }),
  contact(BROKEN),
  ...MANY.map((id) => contact(id)),
];
const follows = [
  follow(A, 'zhangwei', {
    remark: '王芳',
    createtime: 1_700_000_000,
    remark_mobiles: JSON.stringify(['138 0013 8000']),
    tag_ids: JSON.stringify(['etDemoWecomTag000000000000000002']),
  }),
  follow(A, 'sales_001', {
    remark: '王女士',
    createtime: 1_710_000_000,
    remark_mobiles: JSON.stringify(['+86 13900139000', 'not a phone']),
    add_way: 201,
    oper_userid: 'sales_001',
  }),
  follow(B, 'zhangwei', { createtime: 1_705_000_000 }),
  follow(BROKEN, 'zhangwei', { createtime: 0 }),
  ...MANY.map((id, i) => follow(id, 'sales_002', { createtime: 1_690_000_000 + i })),
];
const STAFF = ['sales_001', 'sales_002', 'zhangwei'];

let dir: string;
let dbFile: string;
let db: Knex;
let server: WecomServer;
let recorder: CallRecorder;
const connectors: WecomConnector[] = [];

function connect(over: Record<string, unknown> = {}, url = server.url): WecomConnector {
  const c = kind.create(
    'wecom',
    kind.options.parse({ baseUrl: url, corpId: CORP_ID, corpSecret: CORP_SECRET, timeoutMs: 20_000, maxBatch: 10, retries: 0, ...over }),
    recorder,
  );
  connectors.push(c);
  return c;
}

beforeAll(async () => {
  dir = tempDir('wecom');
  dbFile = path.join(dir, 'wecom.sqlite');
  db = knex({ client: 'better-sqlite3', connection: { filename: dbFile }, useNullAsDefault: true });
  await createTables(db);
  await db('wecom_staff').whereNotIn('userid', STAFF).del();
  await db('wecom_contacts').insert(contacts);
  await db('wecom_follows').insert(follows);
  server = await startWecomServer({ db: dbFile, corpId: CORP_ID, corpSecret: CORP_SECRET });
});

beforeEach(() => {
  recorder = new CallRecorder();
});

afterAll(async () => {
  for (const c of connectors) await c.close();
  await server.close();
  await db.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('WeCom connector: contacts', () => {
  it('answers N ids in ceil(N / maxBatch) calls, in the order asked, one GET per id', async () => {
    const wecom = connect();
    const ids = [...MANY, UNKNOWN];
    const before = server.requests(PATHS.contact);
    const answers = await wecom.contactsByIds(ids);
    const calls = recorder.of('wecom', 'contactsByIds');
    expect(calls.map((c) => c.batchSize)).toEqual([10, 10, 6]);
    expect(server.requests(PATHS.contact) - before).toBe(26);
    expect(answers.slice(0, 25).map((a) => (a as WecomContact).externalUserId)).toEqual(MANY);
    expect(answers[25]).toBeNull();
    expect(await wecom.contactsByIds([])).toEqual([]);
  });

  it('keeps a contact followed by two staff members as one record with both follows, earliest first', async () => {
    const [a] = (await connect().contactsByIds([A])) as WecomContact[];
    expect(a).toMatchObject({ source: 'wecom', externalUserId: A, name: '小鱼儿', unionid: 'oUnionA0000000000000000000000', gender: 'FEMALE', type: 'WECHAT' });
    expect(a.follows.map((f) => f.staffId)).toEqual(['zhangwei', 'sales_001']);
    expect(a.follows[0]).toMatchObject({ remark: '王芳', addedAt: '2023-11-14T22:13:20.000Z', tags: ['VIP客户'], addWay: 1 });
  });

  it('writes the phones staff noted in E.164 and drops what is not a phone', async () => {
    const [a] = (await connect().contactsByIds([A])) as WecomContact[];
    expect(a.follows.map((f) => f.remarkMobiles)).toEqual([['+8613800138000'], ['+8613900139000']]);
  });

  it('joins follow_user pages when WeCom pages a contact’s followers', async () => {
    const paged = await startWecomServer({ db: dbFile, corpId: CORP_ID, corpSecret: CORP_SECRET, followPageSize: 1 });
    try {
      const [a] = (await connect({}, paged.url).contactsByIds([A])) as WecomContact[];
      expect(a.follows.map((f) => f.staffId)).toEqual(['zhangwei', 'sales_001']);
      expect(paged.requests(PATHS.contact)).toBe(2);
    } finally {
      await paged.close();
    }
  });

  it('answers a malformed contact as a row error in its slot and the others normally', async () => {
    const [broken, b] = await connect().contactsByIds([BROKEN, B]);
    expect(broken).toBeInstanceOf(SourceRowError);
    expect((broken as SourceRowError).message).not.toContain(BROKEN);
    expect((b as WecomContact).externalUserId).toBe(B);
  });
});

describe('WeCom connector: errcodes', () => {
  it('refreshes an expired token once and retries the call', async () => {
    const wecom = connect();
    await wecom.contactsByIds([B]);
    const issued = server.tokensIssued();
    server.expireTokens();
    const [b] = await wecom.contactsByIds([B]);
    expect((b as WecomContact).externalUserId).toBe(B);
    expect(server.tokensIssued()).toBe(issued + 1);
    expect(recorder.of('wecom', 'token')).toHaveLength(2);
  });

  it('fails with SOURCE_BAD_RESPONSE when a fresh token is refused too', async () => {
    const wecom = connect();
    await wecom.health();
    server.inject({ errcode: 40014 }, { path: PATHS.contact, times: 2 });
    const e = await failure(wecom.contactsByIds([B]));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.extensions).toMatchObject({ source: 'wecom', errcode: 40014 });
  });

  it.each([-1, 45033])('answers system busy (errcode %i) as SOURCE_UNAVAILABLE', async (errcode) => {
    const wecom = connect();
    server.inject({ errcode }, { path: PATHS.contact });
    const e = await failure(wecom.contactsByIds([B]));
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
  });

  it('answers a body that is not JSON as SOURCE_BAD_RESPONSE', async () => {
    const wecom = connect();
    server.inject({ garbage: true }, { path: PATHS.contact });
    const e = await failure(wecom.contactsByIds([B]));
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
  });

  it('names the credentials, not their values, when gettoken refuses them', async () => {
    const e = await failure(connect({ corpSecret: 'wrong-secret' }).health());
    expect(e.code).toBe('SOURCE_BAD_RESPONSE');
    expect(e.extensions.errcode).toBe(40001);
    expect(e.message).toContain('corpSecret');
    expect(e.message).not.toContain('wrong-secret');
  });

  it('reports health through the observer, and SOURCE_UNAVAILABLE when nothing listens', async () => {
    await connect().health();
    expect(recorder.of('wecom', 'health')).toHaveLength(1);
    const e = await failure(connect({}, 'http://127.0.0.1:9').health());
    expect(e.code).toBe('SOURCE_UNAVAILABLE');
  });
});

describe('WeCom connector: identity feed', () => {
  async function walk(wecom: WecomConnector, pageSize: number, from: string | null = null) {
    const pages: Array<{ records: ScannedRecord[]; cursor: string | null; done: boolean }> = [];
    let cursor = from;
    for (let n = 0; n < 100; n++) {
      const page = await wecom.scan(cursor, pageSize);
      pages.push(page);
      cursor = page.cursor;
      if (page.done) break;
    }
    return pages;
  }

  it('walks every staff member’s contacts through cursor and limit, each record complete', async () => {
    const wecom = connect();
    const pages = await walk(wecom, 10);
    expect(pages[pages.length - 1].done).toBe(true);
    expect(recorder.of('wecom', 'scan').every((c) => c.batchSize === 10)).toBe(true);
    // sales_001: A; sales_002: 25 contacts in pages of 10; zhangwei: A, B and BROKEN, whose add time cannot be read, so it cannot be placed.
    expect(pages.map((p) => p.records.length)).toEqual([1, 10, 10, 5, 2]);
    const ids = new Set(pages.flatMap((p) => p.records.map((r) => r.recordId)));
    expect(ids).toEqual(new Set([A, B, ...MANY]));
    // A is seen under both staff members, each time with every phone either of them noted.
    const seenA = pages.flatMap((p) => p.records.filter((r) => r.recordId === A));
    expect(seenA).toHaveLength(2);
    for (const r of seenA) {
      // Raw, as staff typed them (the resolver normalizes and drops what is not a phone); order carries no meaning.
      // Each phone is carried since the earliest follow whose staff member noted it.
      expect([...r.identifiers].sort((x, y) => (x.value < y.value ? -1 : 1))).toEqual([
        { kind: 'PHONE', value: '+86 13900139000', since: '2024-03-09T16:00:00.000Z' },
        { kind: 'PHONE', value: '138 0013 8000', since: '2023-11-14T22:13:20.000Z' },
        { kind: 'PHONE', value: 'not a phone', since: '2024-03-09T16:00:00.000Z' },
        { kind: 'UNIONID', value: 'oUnionA0000000000000000000000' },
      ]);
      expect(r.updatedAt).toBe('2024-03-09T16:00:00.000Z');
    }
  });

  it('resumes from a cursor with a fresh connector', async () => {
    const first = await walk(connect(), 10);
    const resumed = await walk(connect(), 10, first[1].cursor);
    expect(resumed.map((p) => p.records.map((r) => r.recordId))).toEqual(first.slice(2).map((p) => p.records.map((r) => r.recordId)));
    await expect(connect().scan('not-ours')).rejects.toThrow(/cursor/);
  });

  it('starts a new pass after the end that walks the listing only and reads nothing when nothing changed', async () => {
    const first = await walk(connect(), 10);
    const gets = server.requests(PATHS.contact);
    const again = await walk(connect(), 10, first[first.length - 1].cursor);
    expect(again.flatMap((p) => p.records)).toEqual([]);
    expect(again[again.length - 1].done).toBe(true);
    // The listing, in one page: sales_001 (1 call), sales_002 (3 pages of 10), zhangwei (1); no contact read.
    expect(again).toHaveLength(1);
    expect(recorder.of('wecom', 'scan')).toHaveLength(5 + 5);
    expect(recorder.of('wecom', 'scanRecords')).toHaveLength(5);
    expect(server.requests(PATHS.contact)).toBe(gets);
    // And again from that pass's end.
    expect((await walk(connect(), 10, again[again.length - 1].cursor)).flatMap((p) => p.records)).toEqual([]);
  });

  it('re-reads, in a pass after the end, the contacts whose listing changed, each complete', async () => {
    const end = async (from: string | null) => (await walk(connect(), 10, from)).at(-1)!.cursor;
    const NEW = xid(7);
    let cursor = await end(null);
    await db('wecom_follows')
      .where({ external_userid: B, userid: 'zhangwei' })
      .update({ remark_mobiles: JSON.stringify(['139 0013 9111']) });
    await db('wecom_contacts').insert(contact(NEW, { unionid: 'oUnionNew000000000000000000000' }));
    await db('wecom_follows').insert(follow(NEW, 'sales_001', { createtime: 1_720_000_000 }));
    await db('wecom_follows').where({ external_userid: A, userid: 'sales_001' }).del();
    try {
      const gets = server.requests(PATHS.contact);
      const pages = await walk(connect(), 10, cursor);
      const read = pages.flatMap((p) => p.records);
      const byId = new Map(read.map((r) => [r.recordId, r]));
      expect(byId.get(B)?.identifiers).toEqual([{ kind: 'PHONE', value: '139 0013 9111', since: '2024-01-11T19:06:40.000Z' }]);
      expect(byId.get(NEW)?.identifiers).toEqual([{ kind: 'UNIONID', value: 'oUnionNew000000000000000000000' }]);
      // A lost a follow: read again with only what zhangwei noted.
      expect(byId.get(A)?.identifiers.map((i) => i.value)).toEqual(['oUnionA0000000000000000000000', '138 0013 8000']);
      // Only the changed contacts' buckets are re-read (here the three buckets hold nothing else).
      expect(new Set(read.map((r) => r.recordId))).toEqual(new Set([A, B, NEW]));
      expect(server.requests(PATHS.contact) - gets).toBe(read.length);
      cursor = pages.at(-1)!.cursor;
      expect((await walk(connect(), 10, cursor)).flatMap((p) => p.records)).toEqual([]);
    } finally {
      await db('wecom_follows').where({ external_userid: NEW }).del();
      await db('wecom_contacts').where({ external_userid: NEW }).del();
      await db('wecom_follows').where({ external_userid: B }).update({ remark_mobiles: '[]' });
      await db('wecom_follows').insert(follows[1]);
    }
  });

  it('re-reads everything once from a cursor made before fingerprints, then only what changed', async () => {
    const old = (state: object) => `wc1:${Buffer.from(JSON.stringify(state)).toString('base64url')}`;
    const pages = await walk(connect(), 10, old({ s: null, c: '' }));
    expect(new Set(pages.flatMap((p) => p.records.map((r) => r.recordId)))).toEqual(new Set([A, B, ...MANY]));
    expect((await walk(connect(), 10, pages.at(-1)!.cursor)).flatMap((p) => p.records)).toEqual([]);
    const mid = await walk(connect(), 10, old({ s: 'sales_002', c: '' }));
    expect(mid.map((p) => p.records.length)).toEqual([10, 10, 5, 2]);
    await expect(connect().scan(old({ s: 'sales_002', c: '', m: 'check' }))).rejects.toThrow(/cursor/);
  });

  it('moves past a staff member who left between listing and paging (errcode 60111)', async () => {
    const wecom = connect();
    const firstPage = await wecom.scan(null, 10);
    await db('wecom_staff').where('userid', 'sales_002').del();
    try {
      const rest = await walk(wecom, 10, firstPage.cursor);
      // sales_002's call answers 60111 and names no contact: the same page goes on to zhangwei.
      expect(rest.map((p) => p.records.length)).toEqual([2]);
      expect(rest[rest.length - 1].done).toBe(true);
    } finally {
      await db('wecom_staff').insert({ userid: 'sales_002', name: '销售2', role: 'sales' });
    }
  });

  it("lists the other staff members' contacts when one of a get_by_user group left (errcode 60111)", async () => {
    // One group of every staff member; the staff list (cached a minute) still names sales_002.
    const wecom = connect({ concurrency: 1 });
    await wecom.scan(null, 10);
    await db('wecom_staff').where('userid', 'sales_002').del();
    try {
      const expected = await connect().contactIds();
      expect(expected.length).toBeGreaterThan(0);
      expect([...(await wecom.contactIds())].sort()).toEqual([...expected].sort());
    } finally {
      await db('wecom_staff').insert({ userid: 'sales_002', name: '销售2', role: 'sales' });
    }
  });

  it('says what its next listing will call once its listing and staff list expired: the pages and the staff list', async () => {
    const wecom = connect({ concurrency: 2 });
    expect(wecom.contactIdsCalls()).toBeNull();
    await wecom.contactIds();
    expect(wecom.contactIdsCalls()).toBe(0);
    const real = Date.now;
    // A minute later (both kept a minute): the next listing reads the staff list again, then its pages.
    const later = jest.spyOn(Date, 'now').mockImplementation(() => real() + 61_000);
    try {
      const estimate = wecom.contactIdsCalls();
      recorder.reset();
      await wecom.contactIds();
      expect(recorder.of('wecom', 'staff')).toHaveLength(1);
      expect(recorder.of('wecom')).toHaveLength(estimate!);
    } finally {
      later.mockRestore();
    }
  });

  it('re-reads named contacts, unknown ones null', async () => {
    const [a, unknown, b] = readRecords(await connect().scanRecords([A, UNKNOWN, B]));
    expect(a?.identifiers.map((i) => i.kind)).toEqual(['UNIONID', 'PHONE', 'PHONE', 'PHONE']);
    // The name is the earliest follow's remark (the staff's note, not the WeChat nickname 小鱼儿).
    expect(a?.traits).toEqual({ name: '王芳', gender: 'FEMALE' });
    expect(b?.traits).toEqual({ name: null, gender: 'MALE' });
    expect(unknown).toBeNull();
    expect(b).toMatchObject({ source: 'wecom', recordId: B, identifiers: [], updatedAt: '2024-01-11T19:06:40.000Z' });
    expect(recorder.of('wecom', 'scanRecords')).toHaveLength(1);
  });
});

describe('WeCom kind: capabilities', () => {
  it('feeds profile name from the earliest remark, phone from the latest noted, and gender', async () => {
    const wecom = connect();
    const profile = kind.capabilities(wecom).profile!;
    expect(profile.operation).toBe('contactsByIds');
    const [a] = await profile.records([A]);
    expect(profile.view(a)).toEqual({
      recordId: A,
      updatedAt: null,
      createdAt: '2023-11-14T22:13:20.000Z',
      values: { name: '王芳', phone: '+8613900139000', gender: 'FEMALE' },
    });
    const [b] = await profile.records([B]);
    expect(profile.view(b).values).toEqual({ name: 'Lei', phone: null, gender: 'MALE' });
  });

  it('answers engagement as a WeCom contact of every following staff member since the first add', async () => {
    const wecom = connect();
    const engagement = kind.capabilities(wecom).engagement!;
    expect(engagement.operation).toBe(kind.capabilities(wecom).profile!.operation);
    const [a] = await engagement.records([A]);
    expect(engagement.view(a, 'wecom')).toEqual<Engagement>({
      source: 'wecom',
      recordId: A,
      channel: 'wecom',
      subscribed: true,
      since: '2023-11-14T22:13:20.000Z',
      staff: ['zhangwei', 'sales_001'],
      tags: ['VIP客户'],
    });
  });

  it('answers wecom_contact_added events newest first, after a position, and nothing for kinds it lacks', async () => {
    const wecom = connect();
    const events = kind.capabilities(wecom).events!;
    expect(events.kinds).toEqual(['wecom_contact_added']);
    expect(Object.keys(kind.events!)).toEqual([...events.kinds]);
    const q = { after: null, since: null, kinds: null, limit: 10 };
    const [a, unknown] = lists(await events.eventsByRecordIds([A, UNKNOWN], q));
    expect(a.map((e) => (e as { at: string }).at)).toEqual(['2024-03-09T16:00:00.000Z', '2023-11-14T22:13:20.000Z']);
    expect(a.map((e) => (e as { id: string }).id)).toEqual([`${A}:sales_001`, `${A}:zhangwei`]);
    expect(unknown).toEqual([]);
    const [later] = lists(await events.eventsByRecordIds([A], { ...q, after: { at: '2024-03-09T16:00:00.000Z', kind: 'wecom_contact_added', id: `${A}:sales_001` } }));
    expect(later.map((e) => (e as { refId: string }).refId)).toEqual(['zhangwei']);
    const [since] = lists(await events.eventsByRecordIds([A], { ...q, since: '2024-01-01T00:00:00.000Z' }));
    expect(since).toHaveLength(1);
    recorder.reset();
    expect(lists(await events.eventsByRecordIds([A], { ...q, kinds: ['order_placed'] }))).toEqual([[]]);
    expect(recorder.calls).toEqual([]);
    await expect(events.eventsByRecordIds([A], { ...q, limit: 0 })).rejects.toThrow(/limit/);
  });
});

describe('WeCom kind: options', () => {
  const base = { baseUrl: 'http://127.0.0.1:1', corpId: CORP_ID, corpSecret: CORP_SECRET };
  it('applies defaults and rejects unknown keys and batches over the API limit', () => {
    expect(kind.options.parse(base)).toMatchObject({ timeoutMs: 2000, concurrency: 8 });
    expect(() => kind.options.parse({ ...base, appSecret: 'x' })).toThrow(/appSecret/);
    expect(() => kind.options.parse({ ...base, maxBatch: 101 })).toThrow();
    expect(() => kind.options.parse({ ...base, scanPageSize: 500 })).toThrow();
  });
});

describe('WeCom kind: Customer.wecomContacts', () => {
  const coreSdl = /* GraphQL */ `
    scalar DateTime
    enum SourceName {
      WECOM
    }
    enum Gender {
      MALE
      FEMALE
      UNKNOWN
    }
    type Customer {
      id: ID!
    }
    type Query {
      customers(ids: [ID!]!): [Customer!]!
    }
  `;
  const records: Record<string, string[]> = { c1: [A], c2: [B, UNKNOWN], c3: [BROKEN] };

  function run(wecom: WecomConnector, ids: string[]) {
    const schema = makeExecutableSchema({
      typeDefs: [coreSdl, kind.sdl!],
      resolvers: [
        { Query: { customers: (_: unknown, a: { ids: string[] }) => a.ids.map((id) => ({ id })) }, SourceName: { WECOM: 'wecom' } },
        kind.resolvers!([{ name: 'wecom', connector: wecom }]) as never,
      ],
    });
    const loaders = new Map<string, DataLoader<string, unknown>>();
    const ctx: KindContext = {
      loaders: {
        connector: (() => wecom) as never,
        together: (_group, p) => p,
        batch: (source, operation, call) => {
          const key = `${source}/${operation}`;
          if (!loaders.has(key)) loaders.set(key, new DataLoader((keys) => call(keys, new Map()), { maxBatchSize: wecom.maxBatch }));
          return loaders.get(key)! as never;
        },
        recordIds: async (customerId) => records[customerId] ?? [],
      },
      limits: { maxFirst: 100 },
    };
    return graphql({
      schema,
      contextValue: ctx,
      variableValues: { ids },
      source: `query($ids: [ID!]!) { customers(ids: $ids) { id wecomContacts { source externalUserId follows { staffId remarkMobiles addedAt } } } }`,
    });
  }

  it('loads every customer’s contacts in one call and keeps a malformed one as a null item with its error', async () => {
    const result = await run(connect(), ['c1', 'c2', 'c3']);
    expect(recorder.of('wecom', 'contactsByIds')).toEqual([{ source: 'wecom', operation: 'contactsByIds', batchSize: 4 }]);
    const customers = result.data!.customers as Array<{ wecomContacts: Array<{ source: string; externalUserId: string } | null> }>;
    expect(customers[0].wecomContacts).toEqual([
      {
        source: 'WECOM',
        externalUserId: A,
        follows: [
          { staffId: 'zhangwei', remarkMobiles: ['+8613800138000'], addedAt: '2023-11-14T22:13:20.000Z' },
          { staffId: 'sales_001', remarkMobiles: ['+8613900139000'], addedAt: '2024-03-09T16:00:00.000Z' },
        ],
      },
    ]);
    expect(customers[1].wecomContacts.map((c) => c?.externalUserId)).toEqual([B]);
    expect(customers[2].wecomContacts).toEqual([null]);
    expect(result.errors?.map((e) => e.extensions.code)).toEqual(['SOURCE_BAD_RESPONSE']);
  });

  it('nulls the field with one coded error when WeCom fails the call', async () => {
    const wecom = connect();
    await wecom.health();
    server.inject({ errcode: -1 }, { path: PATHS.contact });
    const result = await run(wecom, ['c1']);
    expect((result.data!.customers as Array<{ wecomContacts: unknown }>)[0].wecomContacts).toBeNull();
    expect(result.errors?.map((e) => [e.extensions.code, e.extensions.source])).toEqual([['SOURCE_UNAVAILABLE', 'wecom']]);
  });
});

describe('WeCom stand-in: wire format', () => {
  async function post(body: unknown) {
    const t = (await (await fetch(`${server.url}${PATHS.token}?corpid=${CORP_ID}&corpsecret=${CORP_SECRET}`)).json()) as { access_token: string };
    const res = await fetch(`${server.url}${PATHS.byUser}?access_token=${t.access_token}`, { method: 'POST', body: JSON.stringify(body) });
    return (await res.json()) as { errcode: number; external_contact_list?: unknown[]; next_cursor?: string };
  }

  it('caps limit at 100, defaults it to 50, and refuses bad userid lists as WeCom does', async () => {
    expect((await post({ userid_list: ['sales_002'], limit: 500 })).external_contact_list).toHaveLength(25);
    expect((await post({ userid_list: ['sales_002', 'zhangwei'] })).external_contact_list).toHaveLength(28);
    const two = await post({ userid_list: ['sales_002', 'zhangwei'], limit: 24 });
    expect(two.next_cursor).not.toBe('');
    expect((await post({ userid_list: ['sales_002', 'zhangwei'], limit: 24, cursor: two.next_cursor })).external_contact_list).toHaveLength(4);
    expect((await post({ userid_list: ['nobody'] })).errcode).toBe(60111);
    expect((await post({ userid_list: Array.from({ length: 101 }, () => 'zhangwei') })).errcode).toBe(40058);
    expect((await post({ userid_list: [] })).errcode).toBe(40058);
  });

  it('answers token errcodes: 41001 missing, 40014 unknown, 40013 bad corpid', async () => {
    const get = async (q: string) => ((await (await fetch(`${server.url}${q}`)).json()) as { errcode: number }).errcode;
    expect(await get(PATHS.staff)).toBe(41001);
    expect(await get(`${PATHS.staff}?access_token=nope`)).toBe(40014);
    expect(await get(`${PATHS.token}?corpid=other&corpsecret=${CORP_SECRET}`)).toBe(40013);
  });
});

describe('WeCom demo system: served to the gateway', () => {
  it('serves a generated store with the credentials sourceOptions gives, and every record scans and reads back', async () => {
    const file = path.join(dir, 'demo-wecom.sqlite');
    const store = knex({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
    const ctx = { seed: 3, people: 300, asOf: parseAsOf('2026-01-01') };
    const ids: string[] = [];
    try {
      await system.createTables(store);
      let index = 0;
      for (const { person } of generatePeople({ people: ctx.people, seed: ctx.seed, asOf: '2026-01-01' })) {
        const rng = new Rng([ctx.seed, 7, index++]);
        if (!present(person, rng)) continue;
        const rows = rowsFor(person, rng, ctx);
        for (const table of Object.keys(system.tables)) await store(table).insert(rows[table as keyof typeof rows]);
        ids.push(...rows.wecom_contacts.map((r) => system.records.id(r)));
      }
    } finally {
      await store.destroy();
    }
    const standIn = await system.serve({ dbFile: file, port: 0 });
    try {
      const wecom = kind.create('wecom', kind.options.parse(system.sourceOptions(standIn.url)), recorder);
      connectors.push(wecom);
      await wecom.health();
      const seen = new Set<string>();
      for (let cursor: string | null = null, n = 0; n < 200; n++) {
        const page = await wecom.scan(cursor);
        for (const r of page.records) seen.add(r.recordId);
        cursor = page.cursor;
        if (page.done) break;
      }
      expect(ids.length).toBeGreaterThan(30);
      expect(seen).toEqual(new Set(ids));
      const contacts = await wecom.contactsByIds(ids);
      expect(contacts.every((c) => c !== null && !(c instanceof Error))).toBe(true);
      expect(recorder.of('wecom', 'contactsByIds')).toHaveLength(Math.ceil(ids.length / 100));
    } finally {
      await standIn.close();
    }
  });
});
