/**
 * The probabilistic tier against a real OneID store: what it links and how it says why, what
 * it only proposes, what it refuses (a household, a recycled number), and that a steward's
 * "different" holds against every later run.
 */
import path from 'node:path';
import { freshDatabase, indexColumns, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, loadIdentityRules, migrateLatest, resolve, ResolutionInterruptedError, type IdMapStore } from '../../src/idmap';
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

  it('links a Thai name in Thai script to its Latin spelling, the words kept through the store (RTGS, a Buddhist-era birthday)', async () => {
    const thai = [
      new FakeSource('members', [rec('members', 'M1', { phone: '0812345678' }, { name: 'พรทิพย์ บุญมี', birthday: '2537-03-07', city: 'Bangkok' })]),
      new FakeSource('events', [rec('events', 'E1', { email: 'pornthip.b@example.org' }, { name: 'Pornthip Boonmee', birthday: '1994-03-07', city: 'Bangkok' })]),
    ];
    const stats = await resolve({ store, connectors: thai, rules });
    expect(stats.probableLinks).toBe(1);
    expect(await owner('events:E1')).toBe(await owner('members:M1'));
    const [merge] = await events({ action: 'merge', actor: 'rule:probabilistic' });
    expect(JSON.parse(merge.evidence).contributions.map((c: { comparison: string; level: string }) => `${c.comparison}:${c.level}`)).toContain('name:alias');
    expect(await t.db('idmap_match_features').where({ record_id: 'M1' }).first('name', 'name_alt')).toEqual({ name: 'พรทิพย์บุญมี', name_alt: 'พรทิพย์ บุญมี' });
  });

  it('links a Japanese name in kanji and kana to its romaji through the store (read in Japanese, not as pinyin), and keeps twins of one surname apart', async () => {
    const japanese = [
      new FakeSource('members', [
        rec('members', 'M1', { phone: '09062645963' }, { name: '井上くみ子', birthday: '1983-06-13', city: '練馬区' }),
        rec('members', 'M2', { phone: '09011112222' }, { name: '佐々木浩', birthday: '1957-11-02', city: '練馬区' }),
      ]),
      new FakeSource('events', [
        rec('events', 'E1', { email: 'kumiko.i@example.org' }, { name: 'Kumiko Inoue', birthday: '1983-06-13', city: '練馬区' }),
        rec('events', 'E2', { email: 'taichi.s@example.org' }, { name: 'Taichi Sasaki', birthday: '1957-11-02', city: '練馬区' }),
      ]),
    ];
    const stats = await resolve({ store, connectors: japanese, rules });
    expect(stats.probableLinks).toBe(1);
    expect(await owner('events:E1')).toBe(await owner('members:M1'));
    expect(await owner('events:E2')).not.toBe(await owner('members:M2'));
    const [merge] = await events({ action: 'merge', actor: 'rule:probabilistic' });
    expect(JSON.parse(merge.evidence).contributions.map((c: { comparison: string; level: string }) => `${c.comparison}:${c.level}`)).toContain('name:alias');
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

  it('keeps a split a steward makes while the tier runs: the tier plans again with the decision instead of linking the two back', async () => {
    const [members, evts] = samePerson();
    await resolve({ store, connectors: [members, evts], rules });
    const [merge] = await events({ action: 'merge', actor: 'rule:probabilistic' });
    // The event record changes, so the next run's tier compares it again.
    evts.put(rec('events', 'E1', { email: 'zfwang@example.org' }, { name: 'Zhenfang Wang', birthday: '1985-02-04', city: '杭州' }, '2024-04-01T00:00:00.000Z'));
    // The run reads the decisions for its rules, then for its tier: the steward splits right after the tier's read.
    let reads = 0;
    const racing: IdMapStore = {
      ...store,
      differentPairs: async () => {
        const pairs = await store.differentPairs();
        if (++reads === 2) await steward.splitCustomer({ mergedId: merge.other_customer_id, actor, reason: 'two sisters' });
        return pairs;
      },
    };
    const again = await resolve({ store: racing, connectors: [members, evts], rules });
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(again.recordsCompared).toBeGreaterThan(0);
    expect(again.probableLinks).toBe(0);
    expect(await owner('events:E1')).not.toBe(await owner('members:M1'));
    expect(await events({ action: 'merge', actor: 'rule:probabilistic' })).toHaveLength(1);
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

  it('compares every record again only when asked (recompare), linking what changed thresholds now link but never a pair judged different', async () => {
    const sources = () => [
      new FakeSource('members', [
        rec('members', 'M1', { phone: '13911112222' }, { name: '李静', province: '浙江省', gender: 'FEMALE' }),
        rec('members', 'M2', { phone: '13933334444' }, { name: '陈敏', province: '江苏省', gender: 'FEMALE' }),
      ]),
      new FakeSource('events', [
        rec('events', 'E1', { email: 'lijing@example.org' }, { name: '李静', province: '浙江省', gender: 'FEMALE' }),
        rec('events', 'E2', { email: 'chenmin@example.org' }, { name: '陈敏', province: '江苏省', gender: 'FEMALE' }),
      ]),
    ];
    await resolve({ store, connectors: sources(), rules });
    const open = await candidates();
    expect(open.map((c) => c.status)).toEqual(['open', 'open']);
    // A steward judges one of the two pairs different.
    const chen = open.find((c) => JSON.parse(c.evidence).pair.includes('members:M2'))!;
    await steward.resolveCandidate({ id: String(chen.id), verdict: 'different', actor, reason: 'two people' });
    // Thresholds lowered (as new weights would raise the pairs' weights): both pairs now score above autoLink.
    const lenient = { ...rules, probabilistic: { ...rules.probabilistic!, autoLink: rules.probabilistic!.review } };

    const incremental = await resolve({ store, connectors: sources(), rules: lenient });
    expect(incremental.recordsCompared).toBe(0);
    expect(await owner('events:E1')).not.toBe(await owner('members:M1'));

    const again = await resolve({ store, connectors: sources(), rules: lenient, recompare: true });
    expect(again.recordsCompared).toBe(4);
    expect(again.probableLinks).toBe(1);
    expect(await owner('events:E1')).toBe(await owner('members:M1'));
    expect(await owner('events:E2')).not.toBe(await owner('members:M2'));
    expect((await candidates()).find((c) => c.id === chen.id)?.status).toBe('rejected');
    // Compared once more: nothing new to do.
    const third = await resolve({ store, connectors: sources(), rules: lenient, recompare: true });
    expect(third.recordsCompared).toBe(4);
    expect(third.probableLinks).toBe(0);
  });

  it('stages every record again only when asked (restage): what an earlier version stored is rewritten in the current form, and a current store writes nothing', async () => {
    const sources = () => [
      new FakeSource('crm', [rec('crm', 'A', { phone: '139-1111-2222' }, { name: '王芳', birthday: '1985-04-02', city: '杭州市' })]),
      new FakeSource('orders', [rec('orders', 'B', { phone: '8613911112222' })]),
      new FakeSource('events', [rec('events', 'E', { email: 'lijing@example.org' }, { name: '李静', birthday: '1990-07-21', city: '宁波市' })]),
    ];
    await resolve({ store, connectors: sources(), rules });
    const COMPARED = ['source', 'record_id', 'name', 'name_alt', 'birth', 'gender', 'city', 'province', 'country', 'postcode', 'street', 'held'];
    const features = () => t.db('idmap_match_features').orderBy(['source', 'record_id']).select(COMPARED);
    const keys = () => t.db('idmap_source_records').orderBy(['source', 'record_id']).select('source', 'record_id', 'customer_id', 'name_key', 'birthday_key');
    const current = () =>
      t.db('idmap_record_identifiers').whereNull('valid_to').orderBy(['source', 'record_id', 'kind']).select('source', 'record_id', 'kind', 'value', 'match_key');
    const [featuresBefore, keysBefore, currentBefore] = [await features(), await keys(), await current()];

    // What an earlier version would have stored: another form of E's city, of A's name key, of B's phone.
    await t.db('idmap_match_features').where({ source: 'events', record_id: 'E' }).update({ city: '宁波 (old form)' });
    await t.db('idmap_source_records').where({ source: 'crm', record_id: 'A' }).update({ name_key: 'h:00000000' });
    await t.db('idmap_record_identifiers').where({ source: 'orders', record_id: 'B', kind: 'PHONE' }).update({ value: '+86139111122220', match_key: '+86139111122220' });
    const eventsBefore = (await events({})).length;

    // A plain run reads what changed in the sources: nothing.
    const plain = await resolve({ store, connectors: sources(), rules });
    expect([plain.recordsChanged, plain.recordsRestaged, plain.recordsCompared]).toEqual([0, 0, 0]);

    const restaged = await resolve({ store, connectors: sources(), rules, restage: true });
    expect(restaged).toMatchObject({ recordsRead: 3, recordsNew: 0, recordsChanged: 2, recordsRestaged: 1 });
    expect(await features()).toEqual(featuresBefore);
    expect(await keys()).toEqual(keysBefore);
    expect(await current()).toEqual(currentBefore);
    // B's phone in the older form is ended and the current form begun, each logged (no personal value beyond the identifier).
    const logged = (await events({})).slice(eventsBefore);
    expect(logged.map((e) => `${e.action}:${e.source}:${e.record_id}:${JSON.parse(e.evidence).value}:${JSON.parse(e.evidence).restage}`).sort()).toEqual([
      'bind:orders:B:+8613911112222:true',
      'unbind:orders:B:+86139111122220:true',
    ]);
    // The three records rewritten are compared again: E for its features, A and B as changed records.
    expect(restaged.recordsCompared).toBe(3);

    // Current now: a second restage reads everything and writes nothing.
    const again = await resolve({ store, connectors: sources(), rules, restage: true });
    expect(again).toMatchObject({ recordsRead: 3, recordsChanged: 0, recordsRestaged: 0, recordsCompared: 0 });
    expect((await events({})).length).toBe(eventsBefore + 2);
  });

  it('goes on with a restage a stopped run began: the next plain run restages what it had not reached, says so, and ends it', async () => {
    /** A source whose scan stops the run it serves (SIGTERM while it was read), once. */
    class StoppingSource extends FakeSource {
      stop: AbortController | null = null;
      override async scan(cursor: string | null, pageSize?: number) {
        this.stop?.abort();
        this.stop = null;
        return super.scan(cursor, pageSize);
      }
    }
    const crm = new FakeSource('crm', [rec('crm', 'A', { phone: '13911112222' }, { name: '王芳', birthday: '1985-04-02', city: '杭州市' })]);
    const events = new StoppingSource('events', [rec('events', 'E', { email: 'lijing@example.org' }, { name: '李静', birthday: '1990-07-21', city: '宁波市' })]);
    await resolve({ store, connectors: [crm, events], rules });
    const nameKey = () => t.db('idmap_source_records').where({ source: 'crm', record_id: 'A' }).first('name_key');
    const city = () => t.db('idmap_match_features').where({ source: 'events', record_id: 'E' }).first('city');
    const [keyBefore, cityBefore] = [await nameKey(), await city()];
    // What an earlier version would have stored: another form of A's name key, of E's city.
    await t.db('idmap_source_records').where({ source: 'crm', record_id: 'A' }).update({ name_key: 'h:00000000' });
    await t.db('idmap_match_features').where({ source: 'events', record_id: 'E' }).update({ city: '宁波 (old form)' });

    // The restage is stopped while it reads the second source: the first is restaged, the second not yet.
    const stop = new AbortController();
    events.stop = stop;
    await expect(resolve({ store, connectors: [crm, events], rules, restage: true, lease: { signal: stop.signal } })).rejects.toBeInstanceOf(ResolutionInterruptedError);
    expect(await nameKey()).toEqual(keyBefore);
    expect(await city()).toEqual({ city: '宁波 (old form)' });

    // The next run, not asked to restage, goes on with it: E is read from the start of its source and restaged.
    const said: string[] = [];
    const resumed = await resolve({ store, connectors: [crm, events], rules, log: { info: (_o, msg) => said.push(msg) } });
    expect(await city()).toEqual(cityBefore);
    // Compared: E for its features, and A, which the stopped run restaged but had not compared yet.
    expect(resumed).toMatchObject({ restageResumed: true, recordsRead: 1, recordsReadBySource: { events: 1 }, recordsRestaged: 1, recordsCompared: 2 });
    expect(said).toContain('resolution: resuming the restage a stopped run began; sources are read on from where it stopped');

    // Ended: the run after it is a plain one again.
    const after = await resolve({ store, connectors: [crm, events], rules });
    expect(after).toMatchObject({ restageResumed: false, recordsRead: 0, recordsRestaged: 0 });
  });

  it('keeps a household apart: a shared phone between two people whose names and birthdays differ links and proposes nothing', async () => {
    const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '王芳', birthday: '1985-04-02', city: '杭州' })]);
    const shop = new FakeSource('shop', [rec('shop', 'S1', { phone: '+86 139 1111 2222' }, { name: 'Li Qiang', birthday: '1983-11-20', city: '杭州' })]);
    const stats = await resolve({ store, connectors: [crm, shop], rules });
    expect(await owner('shop:S1')).not.toBe(await owner('crm:C1'));
    expect(stats.probableLinks).toBe(0);
    expect(await candidates()).toEqual([]);
  });

  it("weighs a household's shared value as a weight strong evidence can outweigh, not a veto: a married name born the same day at the same address is put before a steward; her husband stays apart unseen", async () => {
    // Her name before and after marriage, on two systems, one email; the same day of birth, gender and flat. The
    // names compare as different (another surname), so the email looks like a household's. Her husband shares
    // the email and the flat, born on another day. Other members, so that the flat is not a common one.
    const others = Array.from({ length: 200 }, (_, i) => rec('members', `X${i}`, { phone: `1370000${String(i).padStart(4, '0')}` }, { name: `Member ${i}` }));
    const flat = { city: 'Leeds', postcode: 'LS6 2AB' };
    const sources = [
      new FakeSource('members', [
        rec(
          'members',
          'M1',
          { email: 'karenbell9@hotmail.co.uk' },
          { name: 'Karen Bell', birthday: '1969-03-16', gender: 'FEMALE', address: 'Unit 1B, 8 Lee Creek', ...flat },
        ),
        rec(
          'members',
          'M2',
          { email: 'karenbell9@hotmail.co.uk' },
          { name: 'Omar Mahmood', birthday: '1966-10-02', gender: 'MALE', address: 'Unit 1B, 8 Lee Creek', ...flat },
        ),
        ...others,
      ]),
      new FakeSource('service', [
        rec(
          'service',
          'S1',
          { phone: '+44 7729 165397', email: 'karenbell9@hotmail.co.uk' },
          { name: 'Karen Mahmood', birthday: '1969-03-16', gender: 'FEMALE', address: '8 Lee Creek Unit 1B', ...flat },
        ),
      ]),
    ];
    await resolve({ store, connectors: sources, rules });
    const [karen, omar, service] = await Promise.all(['members:M1', 'members:M2', 'service:S1'].map(owner));
    expect(omar).not.toBe(karen);
    expect(omar).not.toBe(service);
    const pairs = (await candidates()).map((c) => JSON.parse(c.evidence).pair.sort().join(' '));
    const linked = karen === service;
    // Linked, or a probable candidate: either way not left where no steward sees it, as a household penalty of -20 left it.
    expect(linked || pairs.includes('members:M1 service:S1')).toBe(true);
    expect(pairs.filter((p) => p.includes('members:M2'))).toEqual([]);
  });

  it('judges the two customers, not the two records: a pair with no birthday between them is not linked to a customer born on another day', async () => {
    // Two people of one family share an email; each is one customer already (a phone joins her two records),
    // and the records that share the email carry no birthday. Their other records do, and they differ.
    // (The rules refuse the email on the customers' birthdays; the tier scores the two records alone.)
    // Other members, so that a name four records share is not a common one.
    const others = Array.from({ length: 200 }, (_, i) => rec('members', `X${i}`, { phone: `1370000${String(i).padStart(4, '0')}` }, { name: `Member ${i}` }));
    const sources = [
      new FakeSource('members', [
        rec('members', 'M1', { phone: '13911112222' }, { name: '贾佳', birthday: '1990-03-15', gender: 'FEMALE' }),
        rec('members', 'M2', { phone: '13933334444' }, { name: '贾嘉', birthday: '1984-11-02', gender: 'FEMALE' }),
        ...others,
      ]),
      new FakeSource('shop', [rec('shop', 'S1', { phone: '13911112222', email: 'jiajia1988@163.com' }, { name: '贾佳', gender: 'FEMALE', city: '厦门' })]),
      new FakeSource('events', [rec('events', 'E2', { phone: '13933334444', email: 'jiajia1988@163.com' }, { name: '贾嘉', gender: 'FEMALE', city: '厦门' })]),
    ];
    const stats = await resolve({ store, connectors: sources, rules });
    expect(await owner('shop:S1')).toBe(await owner('members:M1'));
    expect(await owner('events:E2')).toBe(await owner('members:M2'));
    expect(await owner('members:M2')).not.toBe(await owner('members:M1'));
    expect(stats.probableLinks).toBe(0);
    // The two records weigh over the auto-link threshold; with their customers' birthdays, under it: put to review.
    const [c] = await candidates();
    const ev = JSON.parse(c.evidence);
    expect(ev).toMatchObject({ tier: 'probabilistic', differ: ['birthday'], customers: { birthday: { level: 'different' } } });
    expect(ev.weight).toBeGreaterThanOrEqual(rules.probabilistic!.autoLink);
    expect(ev.customers.weight).toBeLessThan(rules.probabilistic!.autoLink);
  });

  describe('a link judged on the records it brings together, not only on its own two', () => {
    // Two customers of two records each, joined by the rules (one phone; the other's phone and email); one
    // record of each carries no birthday, and those two compare as one person: one name, one flat, one
    // mailbox name at two providers. Only the other two records say whether the customers are one person.
    const others = Array.from({ length: 200 }, (_, i) => rec('members', `X${i}`, { phone: `1370000${String(i).padStart(4, '0')}` }, { name: `Member ${i}` }));
    const flat = { city: '杭州', address: '文一西路88号3幢2单元501室' };
    const world = (second: { name: string; birthday?: string }) => [
      new FakeSource('members', [
        rec('members', 'M1', { phone: '13911112222' }, { name: '王芳', birthday: '1980-04-02', city: '杭州市' }),
        rec('members', 'M2', { phone: '13933334444', email: 'wangfang88@163.com' }, second),
        ...others,
      ]),
      new FakeSource('shop', [rec('shop', 'S1', { phone: '139-1111-2222', email: 'wangfang88@qq.com' }, { name: 'Wang Fang', gender: 'FEMALE', ...flat })]),
      new FakeSource('events', [rec('events', 'E2', { phone: '13933334444', email: 'wangfang88@163.com' }, { name: 'Wang Fang', gender: 'FEMALE', ...flat })]),
    ];

    it('merges one person whose records are written two ways: her name in characters and in pinyin, her year typed one off', async () => {
      const stats = await resolve({ store, connectors: world({ name: 'Fang Wang', birthday: '1979-04-02' }), rules });
      expect(await owner('events:E2')).toBe(await owner('members:M1'));
      expect(await owner('members:M2')).toBe(await owner('members:M1'));
      expect(stats.probableLinks).toBe(1);
    });

    it('sends to review a link between two people each already linked, whose other records differ in name and in birthday, naming them; a steward\'s "different" then holds when they no longer differ', async () => {
      const sources = world({ name: '李娜', birthday: '1992-11-20' });
      const stats = await resolve({ store, connectors: sources, rules });
      expect(await owner('shop:S1')).toBe(await owner('members:M1'));
      expect(await owner('events:E2')).toBe(await owner('members:M2'));
      expect(await owner('events:E2')).not.toBe(await owner('shop:S1'));
      expect(stats.probableLinks).toBe(0);
      const found = (await candidates()).map((c) => ({ c, ev: JSON.parse(c.evidence) }));
      const link = found.find(({ ev }) => ev.pair.includes('shop:S1') && ev.pair.includes('events:E2'))!;
      // The pair itself, its customers' birthdays weighed, is over the auto-link threshold: the other two records stopped it.
      expect(link.ev.customers.weight).toBeGreaterThanOrEqual(rules.probabilistic!.autoLink);
      expect(link.ev.differ).toEqual(['name', 'birthday']);
      expect([...link.ev.merge.records].sort()).toEqual(['members:M1', 'members:M2']);
      // The review queue shows the steward all four records and what differs.
      const view = (await steward.mergeCandidates({ status: null, first: 10, after: null })).edges.map((e) => e.node).find((n) => n.id === String(link.c.id))!;
      expect(view.records.map((r) => `${r.source}:${r.recordId}`).sort()).toEqual(['events:E2', 'members:M1', 'members:M2', 'shop:S1']);
      expect(view.differ).toEqual(['name', 'birthday']);
      // Nothing of the records' values is in the evidence.
      expect(link.c.evidence).not.toMatch(/王|李|Wang|1980|1992|杭州/);

      await steward.resolveCandidate({ id: String(link.c.id), verdict: 'different', actor, reason: 'two people' });
      // M2 loses its birthday and E2 is compared again: nothing is left to tell the customers apart but the steward.
      const [m, s, e] = sources;
      m.put(rec('members', 'M2', { phone: '13933334444', email: 'wangfang88@163.com' }, { name: '李娜' }, '2024-05-01T00:00:00.000Z'));
      e.put(rec('events', 'E2', { phone: '13933334444', email: 'wangfang88@163.com' }, { name: 'Wang Fang', gender: 'FEMALE', ...flat }, '2024-05-01T00:00:00.000Z'));
      const again = await resolve({ store, connectors: [m, s, e], rules });
      expect(again.recordsCompared).toBeGreaterThan(0);
      expect(again.probableLinks).toBe(0);
      expect(await owner('events:E2')).not.toBe(await owner('shop:S1'));
    });
  });

  it('weighs a phone the rules refused again once the tier has made its two named holders one: the third record, which carries nothing else, joins them in the same run', async () => {
    // One person's two member records, her full name and a short form, on one phone; a shop account with the phone alone.
    // The rules refuse the phone (two names), so it joins none of its carriers; the tier links the two by birthday and phone.
    const sources = () => [
      new FakeSource('members', [
        rec('members', 'M1', { phone: '13911112222' }, { name: '肖伟', birthday: '1980-03-15', gender: 'MALE' }),
        rec('members', 'M2', { phone: '139 1111 2222' }, { name: '肖伟国', birthday: '1980-03-15', gender: 'MALE' }),
      ]),
      new FakeSource('shop', [rec('shop', 'S1', { phone: '+86 139-1111-2222' })]),
    ];
    const stats = await resolve({ store, connectors: sources(), rules });
    expect(stats.probableLinks).toBe(1);
    expect(await owner('members:M2')).toBe(await owner('members:M1'));
    expect(await owner('shop:S1')).toBe(await owner('members:M1'));
    const conflicts = await t.db('idmap_review_candidates').where({ reason: 'conflict' }).select('status');
    expect(conflicts.map((c) => c.status)).toEqual(['superseded']);
    // The shop account's customer joins by the rule, with the phone as its evidence, after the tier's merge.
    const merges = await events({ action: 'merge' });
    expect(merges.map((m) => m.actor)).toEqual(['rule:probabilistic', 'rule:phone']);
    expect(JSON.parse(merges[1].evidence)).toMatchObject({ kind: 'PHONE', value: '+8613911112222' });
    // Nothing is left for a later run: it links nothing.
    expect(await resolve({ store, connectors: sources(), rules })).toMatchObject({ recordsResolved: 0, customersMerged: 0, probableLinks: 0 });
  });

  it("leaves a refused phone refused where the tier joined nothing: a household's nameless third record stays apart", async () => {
    const sources = [
      new FakeSource('members', [
        rec('members', 'M1', { phone: '13911112222' }, { name: '肖伟', birthday: '1980-03-15', gender: 'MALE' }),
        rec('members', 'M2', { phone: '13911112222' }, { name: '刘芳', birthday: '1983-07-02', gender: 'FEMALE' }),
      ]),
      new FakeSource('shop', [rec('shop', 'S1', { phone: '13911112222' })]),
    ];
    await resolve({ store, connectors: sources, rules });
    expect(new Set(await Promise.all(['members:M1', 'members:M2', 'shop:S1'].map(owner))).size).toBe(3);
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

  describe('a number a re-scan found gone is history with its period', () => {
    // 张伟 (a common name) gave up 139 1111 2222 in June 2022: the CRM record now carries another.
    const crmWithHistory = async () => {
      const crm = new FakeSource('crm', [rec('crm', 'C1', { phone: '13911112222' }, { name: '张伟' }, '2022-01-01T00:00:00.000Z')]);
      await resolve({ store, connectors: [crm], rules });
      crm.put(rec('crm', 'C1', { phone: '13800138000' }, { name: '张伟' }, '2022-06-01T00:00:00.000Z'));
      return crm;
    };
    /** A contact whose staff member noted the number from `since` (as a WeCom follow's createtime says). */
    const contact = (since: string): ScannedRecord => ({
      source: 'contacts',
      recordId: 'W1',
      updatedAt: '2023-05-01T00:00:00.000Z',
      identifiers: [{ kind: 'PHONE', value: '139 1111 2222', since }],
      traits: { name: '张伟' },
    });
    const heldOf = async (source: string, recordId: string) => JSON.parse((await t.db('idmap_match_features').where({ source, record_id: recordId }).first()).held);

    it('keeps the ended value and when it ended, and a later holder of the same name is not linked through it', async () => {
      const crm = await crmWithHistory();
      const stats = await resolve({ store, connectors: [crm, new FakeSource('contacts', [contact('2023-05-01T00:00:00.000Z')])], rules });
      expect(await heldOf('crm', 'C1')).toEqual(
        expect.arrayContaining([
          ['PHONE', '+8613911112222', '2022-01-01', '2022-06-01'],
          ['PHONE', '+8613800138000', '2022-06-01', null],
        ]),
      );
      expect(stats.pairsCompared).toBe(1);
      expect(await owner('contacts:W1')).not.toBe(await owner('crm:C1'));
      // Neither the rules (history never links) nor the tier (held apart in time) joined them.
      expect(await events({ action: 'merge' })).toEqual([]);
    });

    it('links the same name through the number when the two held it at overlapping times', async () => {
      const crm = await crmWithHistory();
      await resolve({ store, connectors: [crm, new FakeSource('contacts', [contact('2022-03-01T00:00:00.000Z')])], rules });
      expect(await owner('contacts:W1')).toBe(await owner('crm:C1'));
      const [merge] = await events({ action: 'merge', actor: 'rule:probabilistic' });
      expect(JSON.parse(merge.evidence).contributions).toEqual(expect.arrayContaining([expect.objectContaining({ comparison: 'shared', level: 'shared' })]));
    });
  });

  it('counts each name by its exact text, also where the database collation holds two names equal (MariaDB utf8mb4_general_ci: every Han character outside the BMP)', async () => {
    const { nameCounts, writeFeatures } = await import('../../src/idmap/probabilistic/store');
    const { featuresOf } = await import('../../src/idmap/probabilistic/features');
    // A database created with the server's default collation, not the binary one the tests create.
    if (testEngine === 'mariadb') await t.db.raw('ALTER TABLE idmap_match_features MODIFY name VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NULL');
    const named = (id: string, name: string) => featuresOf('members', id, { name }, []);
    await writeFeatures(t.db, 'members', [named('M1', '张𠀀'), named('M2', '张𠀁'), named('M3', '张𠀁'), named('M4', '王芳')], [], new Set(['M1', 'M2', 'M3', 'M4']));
    const counts = await nameCounts(t.db, ['张𠀀', '张𠀁', '王芳', '李娜']);
    expect(Object.fromEntries(counts)).toEqual({ 张𠀀: 1, 张𠀁: 2, 王芳: 1 });
  });

  describe('bulk load of a first resolution', () => {
    const blocksNow = async () =>
      (await t.db('idmap_match_blocks').orderBy(['block_key', 'source', 'record_id']).select('block_key', 'source', 'record_id')).map((r) => Object.values(r).join(' '));
    /** The secondary indexes of the features and blocks, with their columns. */
    const indexes = async () =>
      Object.fromEntries(
        await Promise.all(
          (
            [
              ['idmap_match_features', 'idmap_match_features_scored_idx'],
              ['idmap_match_features', 'idmap_match_features_name_idx'],
              ['idmap_match_blocks', 'idmap_match_blocks_record_idx'],
            ] as const
          ).map(async ([table, index]) => [index, await indexColumns(t.db, table, index)]),
        ),
      );
    const migrated = {
      idmap_match_features_scored_idx: ['scored', 'source', 'record_id'],
      idmap_match_features_name_idx: ['name'],
      idmap_match_blocks_record_idx: ['source', 'record_id'],
    };

    it('leaves the same block keys and indexes as staging record by record, and no load table', async () => {
      const before = await indexes();
      expect(before).toEqual(migrated);
      await resolve({ store, connectors: samePerson(), rules });
      const bulk = await blocksNow();
      expect(bulk.length).toBeGreaterThan(4);
      expect(await t.db.schema.hasTable('idmap_match_blocks_load')).toBe(false);
      expect(await indexes()).toEqual(before);
      // The same records staged into a store that already has features: written in place.
      await t.db('idmap_match_blocks').delete();
      await t.db('idmap_match_features').update({ scored: 0 });
      await t.db('idmap_match_features').whereNot({ source: 'members' }).delete();
      await t.db('idmap_source_records').where({ source: 'events' }).delete();
      await t.db('idmap_record_identifiers').where({ source: 'events' }).delete();
      await t.db('idmap_scan_cursors').delete();
      await resolve({ store, connectors: samePerson(), rules });
      expect((await blocksNow()).filter((b) => b.includes(' events '))).toEqual(bulk.filter((b) => b.includes(' events ')));
    });

    it('stages a first resolution without the identifiers value index and builds it before linking; a stopped load is finished at the next start', async () => {
      const { startIdentifierBulkLoad } = await import('../../src/idmap/bulk-load');
      const valueIndex = () => indexColumns(t.db, 'idmap_record_identifiers', 'idmap_identifiers_match_idx');
      const before = await valueIndex();
      expect(before).toEqual(['kind', 'match_key']);
      const sharingAPhone = [
        new FakeSource('members', [rec('members', 'M1', { phone: '13911112222' }, { name: '王振芳' })]),
        new FakeSource('events', [rec('events', 'E1', { phone: '13911112222' }, { name: '王振芳' })]),
      ];
      const stats = await resolve({ store, connectors: sharingAPhone, rules });
      expect(stats.recordsLinked).toBe(1); // linking found the shared phone through the rebuilt index
      expect(await owner('events:E1')).toBe(await owner('members:M1'));
      expect(await valueIndex()).toEqual(before);
      // A store with records is not bulk loaded; an empty one is, until a start or a run finishes it.
      expect(await startIdentifierBulkLoad(t.db)).toBe(false);
      await t.db('idmap_record_identifiers').delete();
      await t.db('idmap_source_records').delete();
      expect(await startIdentifierBulkLoad(t.db)).toBe(true);
      expect(await valueIndex()).toEqual([]);
      await migrateLatest(t.db);
      expect(await valueIndex()).toEqual(before);
    });

    it('is finished by the next run when a run stops while loading', async () => {
      const { startBulkLoad, writeFeatures } = await import('../../src/idmap/probabilistic/store');
      const { blockKeys, featuresOf } = await import('../../src/idmap/probabilistic/features');
      const bulk = await startBulkLoad(t.db);
      expect(bulk).toBe(true);
      expect(await indexes()).toEqual({ idmap_match_features_scored_idx: [], idmap_match_features_name_idx: [], idmap_match_blocks_record_idx: [] });
      const f = featuresOf('members', 'M9', { name: '王振芳' }, []);
      await writeFeatures(t.db, 'members', [f], [], new Set(['M9']), bulk);
      // The run stops here; the next one (even with nothing to scan) moves the keys and rebuilds the indexes.
      await resolve({ store, connectors: [], rules });
      expect(await t.db.schema.hasTable('idmap_match_blocks_load')).toBe(false);
      expect(await indexes()).toEqual(migrated);
      expect(await t.db('idmap_match_blocks').where({ record_id: 'M9' }).orderBy('block_key').pluck('block_key')).toEqual(blockKeys(f).sort());
    });
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
