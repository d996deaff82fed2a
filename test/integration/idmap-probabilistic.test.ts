/**
 * The probabilistic tier against a real OneID store: what it links and how it says why, what
 * it only proposes, what it refuses (a household, a recycled number), and that a steward's
 * "different" holds against every later run.
 */
import path from 'node:path';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, type IdMapStore } from '../../src/idmap';
import { createStewardship, type Stewardship } from '../../src/idmap/stewardship';
import type { ScannedRecord, SourceName } from '../../src/vocabulary';
import { FakeSource, rec } from '../helpers/feeds';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
const actor = 'user:steward';

describe(`OneID probabilistic tier (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  let steward: Stewardship;
  const owner = async (k: string) => {
    const [source, recordId] = k.split(':');
    return (await store.customerIdsBySourceRecords([{ source: source as SourceName, recordId }]))[0];
  };
  const events = (where: Record<string, unknown>) => t.db('idmap_link_events').where(where).orderBy('id').select('*');
  const candidates = () => t.db('idmap_review_candidates').where({ reason: 'probable' }).orderBy('id').select('*');

  beforeEach(async () => {
    t = await freshDatabase('idmap_prob');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
    steward = createStewardship(store);
  });
  afterEach(async () => {
    await t.drop();
  });

  /** One person in two systems that share no identifier: characters and pinyin, day and month swapped, one city. */
  const samePerson = () => [
    new FakeSource('members', [rec('members', 'M1', { phone: '13911112222' }, { name: '王振芳', birthday: '1985-04-02', city: '杭州市', province: '浙江省' })]),
    new FakeSource('events', [rec('events', 'E1', { email: 'zfwang@example.org' }, { name: 'Zhenfang Wang', birthday: '1985-02-04', city: '杭州', gender: 'FEMALE' })]),
  ];

  it('links records that share no identifier when name, birthday and city agree, and records the weight and each contribution', async () => {
    const stats = await resolve({ store, connectors: samePerson(), rules });
    expect(stats.probableLinks).toBe(1);
    expect(await owner('events:E1')).toBe(await owner('members:M1'));
    const [merge] = await events({ action: 'merge', actor: 'rule:probabilistic' });
    const ev = JSON.parse(merge.evidence);
    expect(ev.pair.sort()).toEqual(['events:E1', 'members:M1']);
    expect(ev.weight).toBeGreaterThanOrEqual(rules.probabilistic!.autoLink);
    expect(ev.contributions.map((c: { comparison: string; level: string }) => `${c.comparison}:${c.level}`)).toEqual(
      expect.arrayContaining(['prior:prior', 'name:alias', 'birthday:swapped', 'place:city']),
    );
    // No personal value is in the evidence: comparison levels and weights only.
    expect(merge.evidence).not.toMatch(/王|Zhenfang|1985|杭州/);
  });

  it('explains the link with whyRecordsLinked, one PROBABLE_MATCH step carrying the event', async () => {
    await resolve({ store, connectors: samePerson(), rules });
    const why = await steward.whyRecordsLinked({ source: 'members', recordId: 'M1' }, { source: 'events', recordId: 'E1' });
    expect(why.linked).toBe(true);
    expect(why.path).toHaveLength(1);
    expect(why.path[0]).toMatchObject({ via: 'PROBABLE_MATCH', kind: null });
    expect(why.path[0].event?.evidence).toMatchObject({ tier: 'probabilistic' });
  });

  it('is undone by splitCustomer like any merge, and a later run never links the two again', async () => {
    const [members, evts] = samePerson();
    await resolve({ store, connectors: [members, evts], rules });
    const [merge] = await events({ action: 'merge', actor: 'rule:probabilistic' });
    await steward.splitCustomer({ mergedId: merge.other_customer_id, actor, reason: 'two sisters' });
    expect(await owner('events:E1')).not.toBe(await owner('members:M1'));
    // The event record changes (and is compared again): still kept apart, and not proposed either.
    evts.put(rec('events', 'E1', { email: 'zfwang@example.org' }, { name: 'Zhenfang Wang', birthday: '1985-02-04', city: '杭州' }, '2024-04-01T00:00:00.000Z'));
    const again = await resolve({ store, connectors: [members, evts], rules });
    expect(again.recordsCompared).toBeGreaterThan(0);
    expect(again.probableLinks).toBe(0);
    expect(await owner('events:E1')).not.toBe(await owner('members:M1'));
    expect(await candidates()).toEqual([]);
  });

  it('puts a weaker pair to review, and once rejected never links or proposes it again', async () => {
    const sources = () => [
      new FakeSource('members', [rec('members', 'M1', { phone: '13911112222' }, { name: '李静', province: '浙江省', gender: 'FEMALE' })]),
      new FakeSource('events', [rec('events', 'E1', { email: 'lijing@example.org' }, { name: '李静', province: '浙江省', gender: 'FEMALE' })]),
    ];
    await resolve({ store, connectors: sources(), rules });
    const [c] = await candidates();
    expect(c).toMatchObject({ status: 'open', rule: 'probabilistic' });
    const ev = JSON.parse(c.evidence);
    expect(ev.weight).toBeGreaterThanOrEqual(rules.probabilistic!.review);
    expect(ev.weight).toBeLessThan(rules.probabilistic!.autoLink);
    expect(await owner('events:E1')).not.toBe(await owner('members:M1'));

    const view = (await steward.mergeCandidates({ status: null, first: 10, after: null })).edges.map((e) => e.node);
    expect(view[0].records.map((r) => `${r.source}:${r.recordId}`).sort()).toEqual(['events:E1', 'members:M1']);
    await steward.resolveCandidate({ id: String(c.id), verdict: 'different', actor, reason: 'not her' });
    // Both records change and are compared again, now with a birthday that would make it a link.
    const [m, e] = sources();
    m.put(rec('members', 'M1', { phone: '13911112222' }, { name: '李静', birthday: '1990-07-21', province: '浙江省' }, '2024-05-01T00:00:00.000Z'));
    e.put(rec('events', 'E1', { email: 'lijing@example.org' }, { name: '李静', birthday: '1990-07-21', province: '浙江省' }, '2024-05-01T00:00:00.000Z'));
    const again = await resolve({ store, connectors: [m, e], rules });
    expect(again.probableLinks).toBe(0);
    expect(await owner('events:E1')).not.toBe(await owner('members:M1'));
    expect((await candidates()).map((x) => x.status)).toEqual(['rejected']);
  });

  it('keeps a household apart: a shared phone between two people whose names and birthdays differ weighs strongly against', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳', birthday: '1985-04-02', city: '杭州' })]);
    const shop = new FakeSource('shop', [rec('shop', 'S1', { phone: '+86 139 1111 2222' }, { name: 'Li Qiang', birthday: '1983-11-20', city: '杭州' })]);
    const stats = await resolve({ store, connectors: [crm, shop], rules });
    expect(await owner('shop:S1')).not.toBe(await owner('crm:C1'));
    expect(stats.probableLinks).toBe(0);
    expect(await candidates()).toEqual([]);
  });

  it('links the same person through a shared phone across scripts (characters and pinyin), where the rules used to see no comparable name', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳', birthday: '1985-04-02' })]);
    const tickets = new FakeSource('tickets', [rec('tickets', 'T1', { phone: '139-1111-2222' }, { name: 'Wang Fang' })]);
    await resolve({ store, connectors: [crm, tickets], rules });
    expect(await owner('tickets:T1')).toBe(await owner('crm:C1'));
  });

  it('never links through a number the source says one record gave up before the other took it (a recycled number)', async () => {
    const old: ScannedRecord = {
      source: 'members',
      recordId: 'M1',
      updatedAt: '2024-01-01T00:00:00.000Z',
      identifiers: [{ kind: 'PHONE', value: '13911112222', since: '2015-03-01T00:00:00.000Z', until: '2021-06-30T00:00:00.000Z' }],
      traits: { name: '王芳' },
    };
    const stranger = rec('shop', 'S1', { phone: '13911112222' }, { gender: 'MALE' }, '2024-02-01T00:00:00.000Z');
    await resolve({ store, connectors: [new FakeSource('members', [old]), new FakeSource('shop', [stranger])], rules });
    expect(await owner('shop:S1')).not.toBe(await owner('members:M1'));
    // The given-up number is history on the old record, not a current identifier of its customer.
    const [carriers] = await store.customerIdsByIdentifiers([{ kind: 'PHONE', value: '+8613911112222' }]);
    expect(carriers).toEqual([await owner('shop:S1')]);
  });

  it('logs progress with counts, rate and time left, and no personal data', async () => {
    const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
    const log = { info: (obj: object, msg: string) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
    await resolve({ store, connectors: samePerson(), rules, log, progressEveryMs: 0 });
    const phases = new Set(lines.map((l) => l.obj.phase));
    for (const p of ['scan members', 'link', 'probabilistic']) expect(phases).toContain(p);
    const link = lines.find((l) => l.obj.phase === 'link' && l.obj.total != null)!;
    expect(link.obj).toEqual(expect.objectContaining({ records: expect.any(Number), total: 2, ratePerSecond: expect.any(Number) }));
    expect(JSON.stringify(lines)).not.toMatch(/王|Zhenfang|1391111|example\.org/);
  });

  it('does nothing on a re-run with nothing changed', async () => {
    await resolve({ store, connectors: samePerson(), rules });
    const again = await resolve({ store, connectors: samePerson(), rules });
    expect(again).toMatchObject({ recordsCompared: 0, pairsCompared: 0, probableLinks: 0 });
  });
});
