/**
 * u and the prior counted on the store's own records (`probabilistic.chance: "store"`): how often
 * two different customers agree by chance is what this store's customers make it (born in two
 * years, living in twenty cities), and how likely two records are one customer before any
 * comparison is what their number of records per customer makes it; counted once and kept until
 * the store grows or shrinks by a quarter, counted again when every record is compared again,
 * and what the tier's links weigh.
 */
import fs from 'node:fs';
import path from 'node:path';
import { freshDatabase, testEngine, type TestDatabase } from '../helpers/db';
import { createIdMapStore, migrateLatest, resolve, resolveRecords, type IdMapStore } from '../../src/idmap';
import { parseIdentityRules } from '../../src/idmap/rules';
import { MIN_CHANCE_RECORDS, storeChance } from '../../src/idmap/probabilistic/store-chance';
import { mulberry32 } from '../../src/idmap/probabilistic/chance';
import { priorLambda } from '../../src/idmap/probabilistic/model';
import { placeShareKey } from '../../src/idmap/probabilistic/place-shares';
import { createStewardship } from '../../src/idmap/stewardship';
import type { ScannedRecord } from '../../src/vocabulary';
import { FakeSource, rec } from '../helpers/feeds';

const RULES_FILE = path.resolve(__dirname, '../../config/identity-rules.json');
const rulesWith = (chance: 'store' | 'file') => {
  const json = JSON.parse(fs.readFileSync(RULES_FILE, 'utf8'));
  json.probabilistic.chance = chance;
  return parseIdentityRules(json, RULES_FILE);
};
const weights = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../config/identity-weights.json'), 'utf8'));

const SURNAMES = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤',
];
const GIVEN = [...'伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏斌波峰飞婷雪琳晨欣怡浩宇俊凯佳颖'];
const CITIES = [...'杭宁温绍湖嘉金衢舟台丽苏锡常徐连淮盐扬镇'].map((c) => `${c}州市`);
const LATER = '2024-05-01T00:00:00.000Z';

/** `n` different people in one system, from record number `from`: two birth years, twenty cities, unique phones. */
function members(from: number, n: number, updatedAt?: string): ScannedRecord[] {
  const next = mulberry32(from + 1);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const day = new Date(Date.UTC(1990, 0, 1) + Math.floor(next() * 730) * 86_400_000).toISOString().slice(0, 10);
    const traits = { name: pick(SURNAMES) + pick(GIVEN) + pick(GIVEN), birthday: day, city: pick(CITIES), gender: pick(['MALE', 'FEMALE'] as const) };
    return rec('members', `M${i}`, { phone: `139${String(10_000_000 + i).padStart(8, '0')}` }, traits, updatedAt);
  });
}

/** One person (not among the members' names) in both systems, sharing no identifier: the tier's link to weigh. */
const onePerson = [
  rec('members', 'P1', { phone: '13800000001' }, { name: '欧阳振芳', birthday: '1990-06-15', city: '杭州市', gender: 'FEMALE' }),
  rec('events', 'P2', { email: 'oyzf@example.org' }, { name: '欧阳振芳', birthday: '1990-06-15', city: '杭州', gender: 'FEMALE' }),
];

describe(`OneID probabilistic tier, u counted on the store (${testEngine})`, () => {
  let t: TestDatabase;
  let store: IdMapStore;
  const chanceRows = () => t.db('idmap_match_chance').orderBy(['comparison', 'level']).select('*');
  const priorRow = () => t.db('idmap_match_prior').first();
  const uOf = async (comparison: string, level: string) => Number((await t.db('idmap_match_chance').where({ comparison, level }).first()).u);
  const contribution = async (comparison: string, level: string) => {
    const merge = await t.db('idmap_link_events').where({ action: 'merge', actor: 'rule:probabilistic' }).first();
    const ev = JSON.parse(merge.evidence) as { contributions: Array<{ comparison: string; level: string; weight: number }> };
    return ev.contributions.find((c) => c.comparison === comparison && c.level === level)?.weight;
  };

  beforeEach(async () => {
    t = await freshDatabase('idmap_chance');
    await migrateLatest(t.db);
    store = createIdMapStore(t.db);
  });
  afterEach(async () => {
    await t.drop();
  });

  it("counts u of the traits on the store's own records, and the tier's links weigh by it", async () => {
    const sources = [new FakeSource('members', [...members(0, 2400), onePerson[0]]), new FakeSource('events', [onePerson[1]])];
    const stats = await resolve({ store, connectors: sources, rules: rulesWith('store') });
    expect(stats.chanceCountedOn).toBe(2402);
    const rows = await chanceRows();
    // Traits only: identifiers are shared by households and reused numbers, which random pairs do not draw.
    // Besides them, the cities more common than two people's chance of one city (`place-shares.ts`), and the mark that they were looked for.
    expect([...new Set(rows.map((r) => r.comparison))].filter((c) => !c.startsWith('place.')).sort()).toEqual(['birthday', 'gender', 'name', 'place']);
    expect(rows.filter((r) => r.comparison === 'place.shares')).toEqual([expect.objectContaining({ level: 'counted' })]);
    // Born on one of 730 days, living in one of twenty cities, half of them women.
    expect(await uOf('birthday', 'exact')).toBeGreaterThan(0.6 / 730);
    expect(await uOf('birthday', 'exact')).toBeLessThan(1.6 / 730);
    expect(await uOf('place', 'city')).toBeGreaterThan(0.035);
    expect(await uOf('place', 'city')).toBeLessThan(0.065);
    expect(await uOf('gender', 'same')).toBeCloseTo(0.5, 1);
    // The link between the one person's two records weighs a shared birthday and city as common as they are here.
    expect(stats.probableLinks).toBe(1);
    expect(await contribution('birthday', 'exact')).toBeCloseTo(Math.log2(weights.comparisons.birthday.exact.m / (await uOf('birthday', 'exact'))), 1);
    // 杭州, one of twenty cities, weighs by its own share where the store found it commoner than that.
    const hangzhou = rows.find((r) => `${r.comparison}:${r.level}` === placeShareKey('city', '杭州'));
    const cityU = Math.max(await uOf('place', 'city'), hangzhou ? Number(hangzhou.u) : 0);
    expect(await contribution('place', 'city')).toBeCloseTo(Math.log2(weights.comparisons.place.city.m / cityU), 1);
    // One customer with two records among 2,401: too few matches to count a prior on; the file's, rescaled to the store, applies.
    expect((await priorRow()).lambda).toBeNull();
    const lambda = priorLambda(weights, 2402);
    expect(await contribution('prior', 'prior')).toBeCloseTo(Math.log2(lambda / (1 - lambda)), 1);
  });

  it('weighs a city the store holds many of its records in by its share, and whyRecordsLinked shows the contribution so weighed', async () => {
    // Two hundred of the 2,400 members live in 杭州, the rest in the twenty cities (杭州 among them): about one in eight records there,
    // where two people agree on a city one time in eighteen. (Far more, and the city would weigh what a province's agreement does anyway.)
    const crowded = members(0, 2400).map((r, i) => (i < 200 ? { ...r, traits: { ...r.traits, city: '杭州市' } } : r));
    const sources = [new FakeSource('members', [...crowded, onePerson[0]]), new FakeSource('events', [onePerson[1]])];
    await resolve({ store, connectors: sources, rules: rulesWith('store') });
    const hangzhou = await t
      .db('idmap_match_chance')
      .where({ comparison: 'place.city', level: placeShareKey('city', '杭州').split(':')[1] })
      .first();
    expect(Number(hangzhou.u)).toBeGreaterThan(0.11);
    expect(Number(hangzhou.u)).toBeLessThan(0.15);
    expect(Number(hangzhou.u)).toBeGreaterThan(await uOf('place', 'city'));
    const why = await createStewardship(store).whyRecordsLinked({ source: 'members', recordId: 'P1' }, { source: 'events', recordId: 'P2' });
    expect(why.path).toEqual([expect.objectContaining({ via: 'PROBABLE_MATCH' })]);
    const place = (why.path[0].event?.evidence as { contributions: Array<{ comparison: string; weight: number; share?: number }> }).contributions.find(
      (c) => c.comparison === 'place',
    );
    expect(place).toEqual({ comparison: 'place', level: 'city', weight: expect.any(Number), share: Math.round(Number(hangzhou.u) * 1e4) / 1e4 });
    expect(place!.weight).toBeCloseTo(Math.log2(weights.comparisons.place.city.m / Number(hangzhou.u)), 1);
    expect(place!.weight).toBeLessThan(Math.log2(weights.comparisons.place.city.m / (await uOf('place', 'city'))) - 1);
  });

  it('counts the prior on the store: the share of matches among all pairs of its records, those the rules joined included', async () => {
    // 1,200 people each in both systems under another identifier (the tier's to find), and 300
    // more in both under one phone (the rules join them): 1,500 matches among 3,000 × 2,999 / 2 pairs.
    const apart = members(0, 1200);
    const joined = members(5000, 300);
    const events = [...apart.map((r, i) => rec('events', `E${i}`, { email: `p${i}@example.org` }, r.traits)), ...joined.map((r) => ({ ...r, source: 'events' as const }))];
    const stats = await resolve({ store, connectors: [new FakeSource('members', [...apart, ...joined]), new FakeSource('events', events)], rules: rulesWith('store') });
    const truth = 1500 / ((3000 * 2999) / 2);
    const row = await priorRow();
    expect(row.records).toBe(3000);
    expect(row.lambda).toBeGreaterThan(0.9 * truth);
    expect(row.lambda).toBeLessThan(1.2 * truth);
    // Not what the weights file gives a store this size (1.95 × 10⁻⁴), and what the tier weighed its links with.
    expect(row.lambda).toBeGreaterThan(1.5 * priorLambda(weights, 3000));
    expect(stats.priorWeight).toBeCloseTo(Math.log2(row.lambda / (1 - row.lambda)), 2);
    expect(await contribution('prior', 'prior')).toBe(stats.priorWeight);
    expect(stats.probableLinks).toBeGreaterThan(1100);
  });

  it('counts u while the rules link and the prior once they have: the figures of one count after the rules linked', async () => {
    const apart = members(0, 1200);
    const joined = members(5000, 300);
    const events = [...apart.map((r, i) => rec('events', `E${i}`, { email: `p${i}@example.org` }, r.traits)), ...joined.map((r) => ({ ...r, source: 'events' as const }))];
    const connectors = () => [new FakeSource('members', [...apart, ...joined]), new FakeSource('events', events)];
    const rules = rulesWith('store');
    await resolve({ store, connectors: connectors(), rules });
    const pick = (rows: Array<Record<string, unknown>>) => rows.map(({ comparison, level, u, pairs, hits }) => ({ comparison, level, u, pairs, hits }));
    const { lambda, pairs, matches } = await priorRow();
    const during = { u: pick(await chanceRows()), prior: { lambda, pairs, matches } };
    // The same world on another store: the rules link it, then one count, all of it after.
    const other = await freshDatabase('idmap_chance_after');
    try {
      await migrateLatest(other.db);
      await resolve({ store: createIdMapStore(other.db), connectors: connectors(), rules, tiers: 'deterministic' });
      expect(await other.db('idmap_match_chance').first()).toBeUndefined();
      expect((await storeChance(other.db, weights, 3000, { maxBlock: rules.probabilistic!.maxBlock }))?.counted).toBe(true);
      expect(pick(await other.db('idmap_match_chance').orderBy(['comparison', 'level']).select('*'))).toEqual(during.u);
      const after = await other.db('idmap_match_prior').first();
      expect({ lambda: after.lambda, pairs: after.pairs, matches: after.matches }).toEqual(during.prior);
      expect(after.lambda).not.toBeNull();
    } finally {
      await other.drop();
    }
  });

  it("keeps the weights file's prior where the store counts fewer matches than it expects", async () => {
    // 60 people in both systems among 2,400 others: 60 matches, a tenth of what the file's λ expects of 2,520 records.
    const twice = members(9000, 60);
    const events = twice.map((r, i) => rec('events', `E${i}`, { email: `q${i}@example.org` }, r.traits));
    const stats = await resolve({
      store,
      connectors: [new FakeSource('members', [...members(0, 2400), ...twice]), new FakeSource('events', events)],
      rules: rulesWith('store'),
    });
    const row = await priorRow();
    expect(row.lambda).toBeGreaterThan(0.5 * (60 / ((2520 * 2519) / 2)));
    expect(row.lambda).toBeLessThan(priorLambda(weights, 2520) / 2);
    const lambda = priorLambda(weights, 2520);
    expect(stats.priorWeight).toBeCloseTo(Math.log2(lambda / (1 - lambda)), 2);
    expect(stats.probableLinks).toBeGreaterThan(50);
  });

  it('keeps the count while the store stays within a quarter of its size, and counts again when it grows past it or every record is compared again', async () => {
    const crm = new FakeSource('members', members(0, 2400));
    const rules = rulesWith('store');
    await resolve({ store, connectors: [crm], rules });
    const [first] = await chanceRows();
    crm.put(members(2400, 1, LATER)[0]);
    expect((await resolve({ store, connectors: [crm], rules })).chanceCountedOn).toBe(0);
    expect((await chanceRows())[0].counted_at).toBe(first.counted_at);
    for (const r of members(2401, 700, LATER)) crm.put(r);
    expect((await resolve({ store, connectors: [crm], rules })).chanceCountedOn).toBe(3101);
    expect((await resolve({ store, connectors: [crm], rules, recompare: true })).chanceCountedOn).toBe(3101);
    expect((await resolve({ store, connectors: [crm], rules })).chanceCountedOn).toBe(0);
  });

  it('counts again a count made before common places were looked for (no mark of them), however well it fits the store', async () => {
    const crm = new FakeSource('members', members(0, 2400));
    const rules = rulesWith('store');
    await resolve({ store, connectors: [crm], rules });
    await t.db('idmap_match_chance').where({ comparison: 'place.shares' }).delete();
    crm.put(members(2400, 1, LATER)[0]);
    expect((await resolve({ store, connectors: [crm], rules })).chanceCountedOn).toBe(2401);
    expect(await t.db('idmap_match_chance').where({ comparison: 'place.shares', level: 'counted' }).first()).toBeDefined();
  });

  it('never counts when a few records are re-resolved (a webhook, in the gateway): the stored count however old, or none until a full run', async () => {
    const rules = rulesWith('store');
    // No count yet: the weights file's u, and nothing written.
    const first = await resolveRecords({ store, rules, records: members(0, 2400) });
    expect(first.chanceCountedOn).toBe(0);
    expect(await chanceRows()).toEqual([]);
    const crm = new FakeSource('members', members(0, 2400));
    expect((await resolve({ store, connectors: [crm], rules })).chanceCountedOn).toBe(2400);
    const [counted] = await chanceRows();
    // Grown by more than a quarter through webhooks alone: still the count of 2,400 records.
    const more = members(2400, 1000, LATER);
    const hooked = await resolveRecords({ store, rules, records: more });
    expect(hooked.chanceCountedOn).toBe(0);
    expect((await chanceRows())[0].counted_at).toBe(counted.counted_at);
    expect((await priorRow()).records).toBe(2400);
    // The next full run counts on the 3,400.
    for (const r of more) crm.put(r);
    expect((await resolve({ store, connectors: [crm], rules })).chanceCountedOn).toBe(3400);
  });

  it("leaves u to the weights file on a store too small to count on, and when the rules say 'file'", async () => {
    const few = [new FakeSource('members', [...members(0, MIN_CHANCE_RECORDS - 10), onePerson[0]]), new FakeSource('events', [onePerson[1]])];
    const small = await resolve({ store, connectors: few, rules: rulesWith('store') });
    expect(small.chanceCountedOn).toBe(0);
    expect(await chanceRows()).toEqual([]);
    expect(await contribution('place', 'city')).toBeCloseTo(Math.log2(weights.comparisons.place.city.m / weights.comparisons.place.city.u), 1);

    const other = await freshDatabase('idmap_chance_file');
    try {
      await migrateLatest(other.db);
      const stats = await resolve({ store: createIdMapStore(other.db), connectors: [new FakeSource('members', members(0, 2400))], rules: rulesWith('file') });
      expect(stats.chanceCountedOn).toBe(0);
      expect(await other.db('idmap_match_chance').select('comparison')).toEqual([]);
    } finally {
      await other.drop();
    }
  });
});
