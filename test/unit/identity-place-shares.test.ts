/**
 * A common place weighs by its share of the store (`src/idmap/probabilistic/place-shares.ts`): two
 * different people agree on a district that holds a twentieth of the store's records one time in
 * twenty, whatever the average place; counted on the store's sample, kept under a hash of the
 * place's name, and only ever taking weight away.
 */
import path from 'node:path';
import { COMPARISONS, compareRecords } from '../../src/idmap/probabilistic/compare';
import { featuresOf, placeOf } from '../../src/idmap/probabilistic/features';
import { loadWeights, modelOf, type WeightsFile } from '../../src/idmap/probabilistic/model';
import { scorePair } from '../../src/idmap/probabilistic/pairs';
import { PLACE_SHARES_COUNTED, placeShareKey, placeShares } from '../../src/idmap/probabilistic/place-shares';
import { loadIdentityRules } from '../../src/idmap/rules';

const rules = loadIdentityRules(path.resolve(__dirname, '../../config/identity-rules.json'));
const autoLink = rules.probabilistic!.autoLink;

/** The shipped weights with u of an exact name and of the place levels as the Hong Kong 99 world's store counted them (a city 0.0100). */
function hongKongWeights(): WeightsFile {
  const w = loadWeights(path.resolve(__dirname, '../../config/identity-weights.json'));
  const place = { ...w.comparisons.place, city: { m: w.comparisons.place.city.m, u: 0.01 }, province: { m: w.comparisons.place.province.m, u: 0.056 } };
  const name = { ...w.comparisons.name, exact: { m: w.comparisons.name.exact.m, u: 5.35e-6 } };
  return { ...w, comparisons: { ...w.comparisons, name, place } };
}

const levelsWith = (u: Record<string, number>) => Object.entries(u).map(([level, x]) => ({ comparison: 'place', level, u: x, pairs: 500_000, hits: 1000 }));
const record = (i: number, traits: Record<string, string | null>) => featuresOf('s', `r${i}`, { name: `person ${i}`, ...traits }, []);

describe('common places, counted on the sample', () => {
  it("keeps the cities and postcodes more common than their level's u, seen on ten records or more, under a hash of their name", () => {
    const sample = [
      ...Array.from({ length: 400 }, (_, i) => record(i, { city: 'Sham Shui Po', postcode: i < 300 ? '407' : null })),
      ...Array.from({ length: 12 }, (_, i) => record(1000 + i, { city: 'Kwun Tong' })),
      ...Array.from({ length: 9 }, (_, i) => record(2000 + i, { city: 'Tai Po' })),
      ...Array.from({ length: 579 }, (_, i) => record(3000 + i, { city: `town ${i % 290}`, postcode: String(10_000 + i) })),
    ];
    const rows = placeShares(sample, levelsWith({ city: 0.005, postcode: 0.002 }));
    const share = (level: 'city' | 'postcode', value: string) => rows.find((r) => `${r.comparison}:${r.level}` === placeShareKey(level, value));
    // A thousand records with a city: the district holds 40% of them, Kwun Tong 1.2%; Tai Po's 0.9% is over u but seen on nine.
    expect(share('city', placeOf('Sham Shui Po')!)).toEqual({ comparison: 'place.city', level: expect.stringMatching(/^[0-9a-f]{16}$/), u: 0.4, pairs: 1000, hits: 400 });
    expect(share('city', placeOf('Kwun Tong')!)?.u).toBeCloseTo(0.012, 6);
    expect(share('city', placeOf('Tai Po')!)).toBeUndefined();
    expect(share('city', 'town 1')).toBeUndefined();
    // 879 records with a postcode, 300 of them in 407.
    expect(share('postcode', '407')?.u).toBeCloseTo(300 / 879, 6);
    expect(rows.filter((r) => r.comparison === 'place.postcode')).toHaveLength(1);
    // The mark that common places were looked for (a count made before them is made again), and no place's name in any row.
    expect(rows.at(-1)).toEqual({ ...PLACE_SHARES_COUNTED, u: 1, pairs: sample.length, hits: sample.length });
    expect(JSON.stringify(rows)).not.toMatch(/sham|kwun|407/i);
  });

  it('keeps none where no place is commoner than its level (twenty cities of a twentieth each, u a twentieth)', () => {
    const sample = Array.from({ length: 2000 }, (_, i) => record(i, { city: `city ${i % 20}` }));
    expect(placeShares(sample, levelsWith({ city: 0.05, postcode: 0.001 }))).toEqual([expect.objectContaining(PLACE_SHARES_COUNTED)]);
  });
});

describe('a common place in the score', () => {
  const district = placeOf('Sham Shui Po')!;
  const model = modelOf(hongKongWeights(), -3, { records: 10_000, placeShares: new Map([[placeShareKey('city', district), 0.05]]) });
  const place = COMPARISONS.findIndex((c) => c.name === 'place');
  const { m } = hongKongWeights().comparisons.place.city;
  const rec = (city: string, birthday: string | null = null) => ({ ...featuresOf('s', city, { name: 'Tiffany Chan', city, birthday }, []), customerId: city, scored: false });
  const scored = (x: ReturnType<typeof rec>, y: ReturnType<typeof rec>) => scorePair(x, 'a', y, 'b', model, -100, { nameCount: 2 })!;
  const placeOfPair = (p: ReturnType<typeof scored>) => p.score.contributions.find((c) => c.comparison === 'place')!;

  it('weighs one name in a district of a twentieth of the store less than in a rare town, by the share, and says so', () => {
    const inDistrict = scored(rec('Sham Shui Po'), rec('Sham Shui Po'));
    const inTown = scored(rec('Tai O'), rec('Tai O'));
    expect(placeOfPair(inTown)).toEqual({ comparison: 'place', level: 'city', weight: Math.round(Math.log2(m / 0.01) * 100) / 100 });
    expect(placeOfPair(inDistrict)).toEqual({ comparison: 'place', level: 'city', weight: Math.round(Math.log2(m / 0.05) * 100) / 100, share: 0.05 });
    expect(inDistrict.score.weight).toBeCloseTo(inTown.score.weight - Math.log2(0.05 / 0.01), 1);
    // The exact name and the town alone link (as Hong Kong's strangers of one name in one district did); in the district, review.
    expect(inTown.score.weight).toBeGreaterThanOrEqual(autoLink);
    expect(inDistrict.score.weight).toBeLessThan(autoLink);
  });

  it("still links one person's two records in the district when they carry more: one birthday", () => {
    const pair = scored(rec('Sham Shui Po', '1990-06-15'), rec('Sham Shui Po', '1990-06-15'));
    expect(placeOfPair(pair).share).toBe(0.05);
    expect(pair.about).toBe(true);
    expect(pair.score.weight).toBeGreaterThanOrEqual(autoLink);
  });

  it("takes the larger share of the two places (a typo of the district is the district), never weighs under a province's agreement, and leaves other levels alone", () => {
    expect(model.placeShareOf(compareRecords(rec('Sham Shui Po'), rec('Sham Shiu Po')), rec('Sham Shui Po'), rec('Sham Shiu Po'))).toBe(0.05);
    expect(model.placeShareOf(compareRecords(rec('Sham Shiu Po'), rec('Sham Shui Po')), rec('Sham Shiu Po'), rec('Sham Shui Po'))).toBe(0.05);
    const v = compareRecords(rec('Sham Shui Po'), rec('Sham Shui Po'));
    const province = model.levelWeight[place].get('province')!;
    const cityOf = (share: number) => model.score(v, { placeShare: share }).contributions.find((c) => c.comparison === 'place')!.weight;
    expect(cityOf(0.9)).toBeCloseTo(province, 2);
    // Never more than the level weighs: a share under the level's u changes nothing.
    expect(cityOf(0.001)).toBeCloseTo(model.levelWeight[place].get('city')!, 2);
    expect(model.mostAt(place, 'city')).toBeGreaterThanOrEqual(cityOf(0.05));
    // An address, a province: weighed as their levels.
    const address = featuresOf('s', 'x', { name: 'Tiffany Chan', city: 'Sham Shui Po', address: '12 Nathan Road' }, []);
    expect(model.placeShareOf(compareRecords(address, address), address, address)).toBeUndefined();
    // A model without the store's count weighs every place as its level.
    expect(modelOf(hongKongWeights(), -3, { records: 10_000 }).placeShareOf(v, rec('Sham Shui Po'), rec('Sham Shui Po'))).toBeUndefined();
  });
});
