import path from 'node:path';
import { freshDatabase, queriesDuring, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolveRecords, StaleResolutionError, type IdMapStore } from '../../src/idmap';
import type { IdentifierKind, ScannedRecord, SourceName } from '../../src/vocabulary';
import { MAX_IN_LIST } from '../../src/db';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

type Ids = Partial<Record<'phone' | 'email' | 'member' | 'unionid' | 'openid', string>>;
const KIND: Record<keyof Ids, IdentifierKind> = { phone: 'PHONE', email: 'EMAIL', member: 'MEMBER_NO', unionid: 'UNIONID', openid: 'OPENID' };

function rec(source: SourceName, recordId: string, ids: Ids, traits?: ScannedRecord['traits']): ScannedRecord {
  return {
    source,
    recordId,
    updatedAt: '2024-03-01T08:00:00.000Z',
    identifiers: Object.entries(ids).map(([k, value]) => ({ kind: KIND[k as keyof Ids], value: value as string })),
    traits,
  };
}

/** Counts the statements a call sends. */
async function statements<T>(db: TestDatabase['db'], run: () => Promise<T>): Promise<{ result: T; count: number }> {
  const { result, queries } = await queriesDuring(db, run);
  return { result, count: queries.length };
}

describe(`OneID store: batched reads (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  /** Customer of each seeded record. */
  let owner: (source: SourceName, recordId: string) => Promise<string>;

  beforeAll(async () => {
    t = await freshDatabase('idmap_store');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    await resolveRecords({
      store,
      rules,
      records: [
        rec('crm', 'C1', { phone: '13911112222', email: 'wang@qq.com', member: 'M10000001' }, { name: '王芳', birthday: '1985-04-02' }),
        rec('orders', '101', { phone: '8613911112222', member: 'M10000001' }),
        // A household: the same phone, another person.
        rec('crm', 'C2', { phone: '139-1111-2222', email: 'li@163.com', member: 'M10000002' }, { name: '李强', birthday: '1983-11-20' }),
        rec('scrm', 'oX1', { openid: 'oX1abcdef', unionid: 'uLIQIANG01', member: 'M10000002' }),
        rec('support', '9', { email: 'zhao@outlook.com' }, { name: '赵敏' }),
      ],
    });
    owner = async (source, recordId) => (await store.customerIdsBySourceRecords([{ source, recordId }]))[0] as string;
  });
  afterAll(async () => {
    await t.drop();
  });

  it('answers in key order, null or [] for unknown keys', async () => {
    const wang = await owner('crm', 'C1');
    const li = await owner('crm', 'C2');
    expect(
      await store.customerIdsBySourceRecords([
        { source: 'crm', recordId: 'nope' },
        { source: 'orders', recordId: '101' },
        { source: 'crm', recordId: 'C2' },
      ]),
    ).toEqual([null, wang, li]);

    const customers = await store.customersByIds(['01UNKNOWN0000000000000000', li, wang]);
    expect(customers.map((c) => c?.id ?? null)).toEqual([null, li, wang]);
    expect(customers[1]).toEqual({ requestedId: li, id: li, createdAt: expect.stringMatching(ISO), mergedFrom: null });

    const records = await store.sourceRecordsByCustomerIds(['nobody', wang]);
    expect(records[0]).toEqual([]);
    expect(records[1].map((r) => `${r.source}:${r.recordId}`)).toEqual(['crm:C1', 'orders:101']);
    expect(records[1][0]).toEqual({
      customerId: wang,
      source: 'crm',
      recordId: 'C1',
      linkedAt: expect.stringMatching(ISO),
      sourceUpdatedAt: '2024-03-01T08:00:00.000Z',
    });
  });

  it('finds every active customer carrying a shared value, and none for an unknown one', async () => {
    const wang = await owner('crm', 'C1');
    const li = await owner('crm', 'C2');
    const answer = await store.customerIdsByIdentifiers([
      { kind: 'EMAIL', value: 'nobody@qq.com' },
      { kind: 'PHONE', value: '+8613911112222' },
      { kind: 'UNIONID', value: 'uLIQIANG01' },
      { kind: 'OPENID', value: 'oX1abcdef' },
    ]);
    expect(answer).toEqual([[], [wang, li].sort(), [li], [li]]);
  });

  it('lists identifiers per customer with their validity, as ISO times', async () => {
    const li = await owner('crm', 'C2');
    const [idents] = await store.identifiersByCustomerIds([li]);
    expect(idents.map((i) => `${i.kind}:${i.value}@${i.source}`).sort()).toEqual([
      'EMAIL:li@163.com@crm',
      'MEMBER_NO:M10000002@crm',
      'MEMBER_NO:M10000002@scrm',
      'OPENID:oX1abcdef@scrm',
      'PHONE:+8613911112222@crm',
      'UNIONID:uLIQIANG01@scrm',
    ]);
    expect(idents[0]).toMatchObject({ customerId: li, validFrom: '2024-03-01T08:00:00.000Z', validTo: null });
  });

  it('makes one round of statements per read whatever the number of keys', async () => {
    const wang = await owner('crm', 'C1');
    const few = [wang, 'x1', 'x2'];
    const many = [wang, ...Array.from({ length: 300 }, (_, i) => `x${i}`)];
    const reads: Array<(ids: string[]) => Promise<unknown>> = [
      (ids) => store.customersByIds(ids),
      (ids) => store.sourceRecordsByCustomerIds(ids),
      (ids) => store.identifiersByCustomerIds(ids, { history: true }),
      (ids) => store.linkEventsByCustomerIds(ids),
      (ids) => store.customerIdsByIdentifiers(ids.map((value) => ({ kind: 'PHONE' as const, value }))),
      (ids) => store.customerIdsBySourceRecords(ids.map((recordId) => ({ source: 'crm' as const, recordId }))),
    ];
    for (const read of reads) {
      const a = await statements(t.db, () => read(few));
      const b = await statements(t.db, () => read(many));
      expect([a.count, b.count]).toEqual([1, 1]);
    }
    // Past MAX_IN_LIST keys the IN list is chunked: still one round, sent together.
    const huge = Array.from({ length: MAX_IN_LIST * 2 + 1 }, (_, i) => `x${i}`);
    expect((await statements(t.db, () => store.customersByIds(huge))).count).toBe(3);
  });

  it('explains each customer with its link events, newest first', async () => {
    const li = await owner('crm', 'C2');
    const [events] = await store.linkEventsByCustomerIds([li]);
    expect(events.map((e) => [e.action, e.actor])).toEqual([
      ['link', 'rule:member-no'],
      ['candidate', 'rule:phone'],
      ['create', 'rule:new-record'],
    ]);
    const link = events.find((e) => e.action === 'link');
    expect(link).toMatchObject({
      customerId: li,
      source: 'scrm',
      recordId: 'oX1',
      at: expect.stringMatching(ISO),
      evidence: { kind: 'MEMBER_NO', value: 'M10000002', with: ['crm:C2'] },
    });
    expect(Number(events[0].id)).toBeGreaterThan(Number(events[events.length - 1].id));
    expect((await store.linkEventsByCustomerIds([li], { limit: 1 }))[0]).toHaveLength(1);
  });
});

describe(`OneID store: stewardship writes (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  const ids = async (...keys: Array<[SourceName, string]>) => (await store.customerIdsBySourceRecords(keys.map(([source, recordId]) => ({ source, recordId })))) as string[];

  beforeEach(async () => {
    t = await freshDatabase('idmap_steward');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    await resolveRecords({
      store,
      rules,
      records: [rec('crm', 'A', { email: 'a@qq.com' }), rec('crm', 'B', { email: 'b@qq.com' }), rec('crm', 'C', { email: 'c@qq.com' })],
    });
  });
  afterEach(async () => {
    await t.drop();
  });

  it('follows merges to the survivor, also through a merge of the survivor', async () => {
    const [a, b, c] = await ids(['crm', 'A'], ['crm', 'B'], ['crm', 'C']);
    await store.mergeCustomers({ survivorId: b, mergedId: a, actor: 'user:alice', reason: 'same person' });
    await store.mergeCustomers({ survivorId: c, mergedId: b, actor: 'user:alice', reason: 'same person' });
    const [ra, rb, rc] = await store.customersByIds([a, b, c]);
    expect(ra).toMatchObject({ requestedId: a, id: c, mergedFrom: a });
    expect(rb).toMatchObject({ requestedId: b, id: c, mergedFrom: b });
    expect(rc).toMatchObject({ requestedId: c, id: c, mergedFrom: null });
    expect(await ids(['crm', 'A'], ['crm', 'B'], ['crm', 'C'])).toEqual([c, c, c]);
    // The survivor's history includes what happened to the customers merged into it.
    const [events] = await store.linkEventsByCustomerIds([c]);
    expect(events.filter((e) => e.action === 'merge').map((e) => e.otherCustomerId)).toEqual([b, a]);
    expect(events.filter((e) => e.action === 'create')).toHaveLength(3);
  });

  it('refuses to merge a customer that is not active', async () => {
    const [a, b] = await ids(['crm', 'A'], ['crm', 'B']);
    await store.mergeCustomers({ survivorId: b, mergedId: a, actor: 'user:alice', reason: 'same' });
    await expect(store.mergeCustomers({ survivorId: a, mergedId: b, actor: 'user:alice', reason: 'again' })).rejects.toThrow(/not active/);
  });

  it('undoes a merge from its event, and remembers they are different', async () => {
    const [a, b] = await ids(['crm', 'A'], ['crm', 'B']);
    await store.mergeCustomers({ survivorId: b, mergedId: a, actor: 'user:alice', reason: 'same' });
    const undone = await store.unmergeCustomer({ mergedId: a, actor: 'user:bob', reason: 'not the same' });
    expect(undone).toEqual({ customerId: a, survivorId: b, movedBack: [{ source: 'crm', recordId: 'A' }] });
    expect(await ids(['crm', 'A'], ['crm', 'B'])).toEqual([a, b]);
    expect((await store.customersByIds([a]))[0]).toMatchObject({ id: a, mergedFrom: null });
    expect(await store.differentPairs()).toEqual([[b, a]]);
  });

  it('refuses, writing nothing, a resolution plan the store changed under', async () => {
    const [a, b] = await ids(['crm', 'A'], ['crm', 'B']);
    await store.mergeCustomers({ survivorId: b, mergedId: a, actor: 'user:alice', reason: 'same' });
    const before = await t.db('idmap_link_events').count({ n: '*' });
    await expect(
      store.applyResolution({
        at: new Date().toISOString(),
        newCustomerIds: ['01NEWCUSTOMER000000000000'],
        assignments: [{ source: 'crm', recordId: 'A', customerId: a, expectedCustomerId: a }],
        merges: [],
        events: [{ actor: 'rule:phone', action: 'link', customerId: a, reason: 'stale' }],
        candidates: [],
      }),
    ).rejects.toThrow(StaleResolutionError);
    expect(await t.db('idmap_link_events').count({ n: '*' })).toEqual(before);
    expect(await store.customersByIds(['01NEWCUSTOMER000000000000'])).toEqual([null]);
  });

  it('splits records off into a new customer', async () => {
    const [a, b] = await ids(['crm', 'A'], ['crm', 'B']);
    await store.mergeCustomers({ survivorId: a, mergedId: b, actor: 'user:alice', reason: 'same' });
    const { customerId, fromCustomerId } = await store.splitRecords({ records: [{ source: 'crm', recordId: 'B' }], actor: 'user:bob', reason: 'wrong' });
    expect(fromCustomerId).toBe(a);
    expect(await ids(['crm', 'A'], ['crm', 'B'])).toEqual([a, customerId]);
    const [events] = await store.linkEventsByCustomerIds([customerId]);
    expect(events.map((e) => e.action)).toEqual(['decision', 'split']);
  });
});

describe(`OneID store: a lookup matches as resolution does (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  let owner: (source: SourceName, recordId: string) => Promise<string>;

  beforeAll(async () => {
    t = await freshDatabase('idmap_store_match_key');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    await resolveRecords({
      store,
      rules,
      records: [
        rec('crm', 'J1', { email: 'janedoe@gmail.com' }, { name: 'Jane Doe' }),
        rec('support', '71', { email: 'jane.doe@gmail.com' }, { name: 'Jane Doe' }),
        rec('crm', 'K1', { email: 'kai+shop@qq.com' }, { name: '凯' }),
        rec('crm', 'L1', { email: 'li.ming@163.com' }, { name: '李明' }),
      ],
    });
    owner = async (source, recordId) => (await store.customerIdsBySourceRecords([{ source, recordId }]))[0] as string;
  });
  afterAll(async () => {
    await t.drop();
  });

  it('finds a Gmail address by any spelling its dots, +tag or googlemail.com give it, as resolution linked them', async () => {
    const jane = await owner('crm', 'J1');
    expect(await owner('support', '71')).toBe(jane);
    const spellings = ['janedoe@gmail.com', 'jane.doe@gmail.com', 'jane.doe+news@gmail.com', 'j.a.n.e.d.o.e@googlemail.com'];
    expect(await store.customerIdsByIdentifiers(spellings.map((value) => ({ kind: 'EMAIL' as const, value })))).toEqual(spellings.map(() => [jane]));
  });

  it('drops any provider’s +tag but keeps the dots outside Gmail, as the match key does', async () => {
    const kai = await owner('crm', 'K1');
    const li = await owner('crm', 'L1');
    const answer = await store.customerIdsByIdentifiers([
      { kind: 'EMAIL', value: 'kai@qq.com' },
      { kind: 'EMAIL', value: 'kai+other@qq.com' },
      { kind: 'EMAIL', value: 'li.ming@163.com' },
      { kind: 'EMAIL', value: 'liming@163.com' },
    ]);
    expect(answer).toEqual([[kai], [kai], [li], []]);
  });
});
