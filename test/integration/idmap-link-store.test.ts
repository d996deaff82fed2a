import path from 'node:path';
import { freshDatabase, queriesDuring, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolveRecords, StaleResolutionError, type IdMapStore } from '../../src/idmap';
import { linkStoreOf, type LinkStore } from '../../src/idmap/link-store';
import { matchKeyOf } from '../../src/idmap/rules';
import type { IdentifierKind, ScannedRecord, SourceName } from '../../src/vocabulary';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
const AT = '2024-03-02T08:00:00.000Z';

function rec(source: SourceName, recordId: string, ids: Array<[IdentifierKind, string]>, traits?: ScannedRecord['traits']): ScannedRecord {
  return { source, recordId, updatedAt: '2024-03-01T08:00:00.000Z', identifiers: ids.map(([kind, value]) => ({ kind, value })), traits };
}

/** Rows grouped by `key`, each group in the order answered; groups by key (their order between keys is not part of the contract). */
function grouped<T>(rows: readonly T[], key: (r: T) => string): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const r of rows) (out[key(r)] ??= []).push(r);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe(`OneID link store: the link phase's reads and batch apply (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  let links: LinkStore;

  beforeAll(async () => {
    t = await freshDatabase('idmap_links');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    links = linkStoreOf(store);
    await resolveRecords({
      store,
      rules,
      records: [
        rec(
          'crm',
          'C1',
          [
            ['PHONE', '13911112222'],
            ['EMAIL', 'wang@qq.com'],
            ['MEMBER_NO', 'M10000001'],
          ],
          { name: '王芳', birthday: '1985-04-02' },
        ),
        rec('orders', '101', [
          ['PHONE', '8613911112222'],
          ['MEMBER_NO', 'M10000001'],
        ]),
        rec('scrm', 'oX1', [
          ['OPENID', 'oX1abcdef'],
          ['UNIONID', 'uLIQIANG01'],
          ['MEMBER_NO', 'M10000002'],
        ]),
      ],
    });
    // Staged, not linked: records sharing values with the customers above and with each other, one carrying two emails.
    await store.applyScanChanges({
      source: 'crm',
      at: AT,
      inserts: ['C2', 'C3', 'C4'].map((recordId) => ({ recordId, sourceUpdatedAt: AT, nameKey: null, birthdayKey: null })),
      updates: [],
      addIdentifiers: (
        [
          ['C2', 'EMAIL', 'wang@qq.com'],
          ['C2', 'EMAIL', 'fang@163.com'],
          ['C2', 'PHONE', '13911112222'],
          ['C3', 'MEMBER_NO', 'M10000002'],
          ['C4', 'EMAIL', 'fang@163.com'],
        ] as Array<[string, IdentifierKind, string]>
      ).map(([recordId, kind, value]) => ({ recordId, kind, value, matchKey: matchKeyOf(kind, value), validFrom: AT })),
      endIdentifiers: [],
      events: [],
    });
  });
  afterAll(async () => {
    await t.drop();
  });

  const values = (...vs: Array<[IdentifierKind, string]>) => vs.map(([kind, v]) => ({ kind, matchKey: matchKeyOf(kind, v) }));

  it('answers what the resolution store answers: per value, record and customer, in the same order', async () => {
    const wanted = values(['PHONE', '13911112222'], ['EMAIL', 'fang@163.com'], ['MEMBER_NO', 'M10000002'], ['EMAIL', 'nobody@example.com'], ['EMAIL', 'wang@qq.com']);
    const byValue = (c: { kind: string; matchKey: string }) => `${c.kind} ${c.matchKey}`;
    expect(grouped(await links.carriersOf(wanted), byValue)).toEqual(grouped(await store.carriersOf(wanted), byValue));
    expect(Object.keys(grouped(await links.carriersOf(wanted), byValue))).toHaveLength(4);

    const records = [
      { source: 'crm', recordId: 'C2' },
      { source: 'crm', recordId: 'C1' },
      { source: 'orders', recordId: '101' },
      { source: 'crm', recordId: 'C9' },
    ];
    const byRecord = (r: { source: string; recordId: string }) => `${r.source}:${r.recordId}`;
    expect(grouped(await links.currentIdentifiersOf(records), byRecord)).toEqual(grouped(await store.currentIdentifiersOf(records), byRecord));
    expect((await links.currentIdentifiersOf(records)).filter((i) => i.recordId === 'C2').map((i) => i.value)).toEqual(['wang@qq.com', 'fang@163.com', '13911112222']);
    expect(await links.currentIdentifiersOf(records, ['EMAIL'])).toEqual(expect.arrayContaining([expect.objectContaining({ recordId: 'C2', kind: 'EMAIL' })]));
    expect(grouped(await links.currentIdentifiersOf(records, ['EMAIL']), byRecord)).toEqual(grouped(await store.currentIdentifiersOf(records, ['EMAIL']), byRecord));

    const customers = [...new Set((await store.customerIdsBySourceRecords(records)).filter((c): c is string => c != null)), 'NO-SUCH-CUSTOMER'];
    const byCustomer = (r: { customerId: string }) => r.customerId;
    for (const kinds of [['PHONE', 'EMAIL', 'MEMBER_NO'], ['UNIONID'], []] as IdentifierKind[][]) {
      expect(grouped(await links.recordsOfCustomers(customers, kinds), byCustomer)).toEqual(grouped(await store.recordsOfCustomers(customers, kinds), byCustomer));
    }

    expect(await links.pendingRecords('crm', null, 2)).toEqual(await store.pendingRecords('crm', null, 2));
    expect(await links.pendingRecords('crm', 'C2', 10)).toEqual(await store.pendingRecords('crm', 'C2', 10));
    expect([...(await links.valueCounts(wanted))].sort()).toEqual([...(await store.valueCounts(wanted))].sort());
  });

  it('reads without building a query on SQLite (prepared statements on the store connection)', async () => {
    const { queries } = await queriesDuring(t.db, () => links.carriersOf(values(['PHONE', '13911112222'])));
    expect(queries.length).toBe(testEngine === 'sqlite' ? 0 : 1);
  });

  it('refuses, writing nothing, a plan the store changed under', async () => {
    const [c1, oX1] = await store.customerIdsBySourceRecords([
      { source: 'crm', recordId: 'C1' },
      { source: 'scrm', recordId: 'oX1' },
    ]);
    const events = async () => Number((await t.db('idmap_link_events').count({ n: '*' }))[0].n);
    const before = await events();
    // A record linked meanwhile (a plan that read it unlinked).
    await expect(
      links.applyResolution({
        at: AT,
        newCustomerIds: ['01NEWCUSTOMER000000000000A'],
        assignments: [
          { source: 'crm', recordId: 'C3', customerId: '01NEWCUSTOMER000000000000A', expectedCustomerId: null },
          { source: 'crm', recordId: 'C1', customerId: c1 as string, expectedCustomerId: null },
        ],
        merges: [],
        events: [{ actor: 'rule:test', action: 'create', customerId: '01NEWCUSTOMER000000000000A', reason: 'stale' }],
        candidates: [],
      }),
    ).rejects.toThrow(StaleResolutionError);
    // A customer merged meanwhile.
    await store.mergeCustomers({ survivorId: c1 as string, mergedId: oX1 as string, actor: 'user:alice', reason: 'same' });
    const merged = await events();
    await expect(
      links.applyResolution({
        at: AT,
        newCustomerIds: [],
        assignments: [{ source: 'crm', recordId: 'C3', customerId: oX1 as string, expectedCustomerId: null }],
        merges: [],
        events: [{ actor: 'rule:test', action: 'link', customerId: oX1 as string, reason: 'stale' }],
        candidates: [],
      }),
    ).rejects.toThrow(StaleResolutionError);
    expect(merged).toBeGreaterThan(before);
    expect(await events()).toBe(merged);
    expect(await store.customersByIds(['01NEWCUSTOMER000000000000A'])).toEqual([null]);
    expect(await store.customerIdsBySourceRecords([{ source: 'crm', recordId: 'C3' }])).toEqual([null]);
  });

  it('applies a plan: new customers, links, events, and a record kept where it is', async () => {
    const [c1] = await store.customerIdsBySourceRecords([{ source: 'crm', recordId: 'C1' }]);
    const { candidatesCreated } = await links.applyResolution({
      at: AT,
      newCustomerIds: ['01NEWCUSTOMER000000000000B'],
      assignments: [
        { source: 'crm', recordId: 'C2', customerId: c1 as string, expectedCustomerId: null },
        { source: 'crm', recordId: 'C4', customerId: '01NEWCUSTOMER000000000000B', expectedCustomerId: null },
      ],
      merges: [],
      events: [
        { actor: 'rule:email', action: 'link', customerId: c1 as string, source: 'crm', recordId: 'C2', reason: 'shares an EMAIL', evidence: { kind: 'EMAIL' } },
        { actor: 'rule:new-record', action: 'create', customerId: '01NEWCUSTOMER000000000000B', source: 'crm', recordId: 'C4', reason: 'new customer' },
      ],
      candidates: [],
    });
    expect(candidatesCreated).toBe(0);
    expect(
      await store.customerIdsBySourceRecords([
        { source: 'crm', recordId: 'C2' },
        { source: 'crm', recordId: 'C4' },
      ]),
    ).toEqual([c1, '01NEWCUSTOMER000000000000B']);
    expect((await store.pendingRecords('crm', null, 10)).map((r) => r.recordId)).toEqual(['C3']);
    const [events] = await store.linkEventsByCustomerIds(['01NEWCUSTOMER000000000000B']);
    expect(events).toEqual([expect.objectContaining({ actor: 'rule:new-record', action: 'create', source: 'crm', recordId: 'C4', at: AT, evidence: null })]);
    const [linked] = await store.linkEventsByCustomerIds([c1 as string]);
    expect(linked[0]).toEqual(expect.objectContaining({ action: 'link', recordId: 'C2', evidence: { kind: 'EMAIL' } }));
  });

  it('writes a merge as stewardship writes it: records moved, the customer redirected, the event naming what moved', async () => {
    const [c1] = await store.customerIdsBySourceRecords([{ source: 'crm', recordId: 'C1' }]);
    const merged = '01NEWCUSTOMER000000000000B';
    await links.applyResolution({
      at: AT,
      newCustomerIds: [],
      assignments: [{ source: 'crm', recordId: 'C3', customerId: c1 as string, expectedCustomerId: null }],
      merges: [{ survivorId: c1 as string, mergedId: merged, actor: 'rule:email', reason: 'shares an EMAIL', evidence: { kind: 'EMAIL' } }],
      events: [{ actor: 'rule:member', action: 'link', customerId: c1 as string, source: 'crm', recordId: 'C3', reason: 'shares a MEMBER_NO' }],
      candidates: [],
    });
    expect(await store.customersByIds([merged])).toEqual([expect.objectContaining({ id: c1, mergedFrom: merged })]);
    expect(
      await store.customerIdsBySourceRecords([
        { source: 'crm', recordId: 'C4' },
        { source: 'crm', recordId: 'C3' },
      ]),
    ).toEqual([c1, c1]);
    const [events] = await store.linkEventsByCustomerIds([c1 as string]);
    // Newest first: the plan's events after its merge.
    expect(events.slice(0, 2)).toEqual([
      expect.objectContaining({ action: 'link', recordId: 'C3' }),
      expect.objectContaining({
        action: 'merge',
        actor: 'rule:email',
        otherCustomerId: merged,
        evidence: { kind: 'EMAIL', movedRecords: [{ source: 'crm', recordId: 'C4' }], redirected: [] },
      }),
    ]);
    expect(await store.pendingRecords('crm', null, 10)).toEqual([]);
  });
});
