/**
 * u counted on random pairs (`src/idmap/probabilistic/chance.ts`): drawn per comparison among
 * the records that carry what it compares, worst-level pairs only counted, and pairs that are
 * likely one person taken out.
 */
import { chanceAmongDifferent, chanceOf, hitsOf, mulberry32, randomPairs } from '../../src/idmap/probabilistic/chance';
import { COMPARISONS } from '../../src/idmap/probabilistic/compare';
import { featuresOf } from '../../src/idmap/probabilistic/features';
import type { MatchFeatures } from '../../src/idmap/probabilistic/features';

const at = (name: string) => COMPARISONS.findIndex((c) => c.name === name);
const day = (n: number) => new Date(Date.UTC(1990, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);

/** A word of letters for a number (names fold digits away). */
const letters = (i: number): string => (i < 26 ? 'abcdefghijklmnopqrstuvwxyz'[i] : letters(Math.floor(i / 26) - 1) + letters(i % 26));

/** `n` people, one record each; a birthday on one record in `birthdayEvery`, drawn from `days` days. */
function people(n: number, opts: { birthdayEvery?: number; days?: number; seed?: number } = {}): MatchFeatures[] {
  const rand = mulberry32(opts.seed ?? 3);
  return Array.from({ length: n }, (_, i) =>
    featuresOf('s', `r${i}`, { name: `${letters(i)} test`, birthday: i % (opts.birthdayEvery ?? 1) === 0 ? day(Math.floor(rand() * (opts.days ?? 365))) : null }, []),
  );
}

describe('u counted on random pairs', () => {
  it("draws a comparison's pairs among the records that carry it: one birthday in ten records still gives every pair drawn a known birthday", () => {
    const sets = randomPairs(people(3000, { birthdayEvery: 10 }), { pairs: 20_000 });
    const b = sets[at('birthday')];
    expect(b.drawn).toBe(20_000);
    expect(b.patterns.every((p) => p.v[at('birthday')] != null)).toBe(true);
    // Born on one of 365 days: about one pair in 365 agrees exactly.
    const u = chanceOf(sets, COMPARISONS)[at('birthday')];
    expect(u.exact).toBeGreaterThan(0.6 / 365);
    expect(u.exact).toBeLessThan(1.6 / 365);
  });

  it('counts pairs at the worst level without keeping them, and keeps the others whole', () => {
    const sets = randomPairs(people(2000), { pairs: 10_000 });
    const b = sets[at('birthday')];
    const kept = b.patterns.reduce((a, p) => a + p.n, 0);
    expect(b.worst + kept).toBe(b.drawn);
    expect(b.patterns.some((p) => p.v[at('birthday')] === 'different')).toBe(false);
    expect(hitsOf(b, COMPARISONS[at('birthday')], at('birthday'), 'typo')).toBeGreaterThan(0);
    // Whole vectors: the name of a kept pair is compared too.
    expect(b.patterns.every((p) => p.v[at('name')] != null)).toBe(true);
  });

  it('counts every pair at an exact birthday or name, not a sample of them, and lets the random pairs share the rest', () => {
    const records = people(3000);
    const sets = randomPairs(records, { pairs: 20_000 });
    const b = sets[at('birthday')];
    const perDay = new Map<string, number>();
    for (const r of records) perDay.set(r.birth!, (perDay.get(r.birth!) ?? 0) + 1);
    const sameDay = [...perDay.values()].reduce((a, n) => a + (n * (n - 1)) / 2, 0);
    expect(b.grouped).toMatchObject({ pairs: sameDay, of: (3000 * 2999) / 2 });
    expect(b.patterns.some((p) => p.v[at('birthday')] === 'exact')).toBe(false);
    const u = chanceOf(sets, COMPARISONS)[at('birthday')];
    expect(u.exact).toBeCloseTo(sameDay / ((3000 * 2999) / 2), 6);
    expect(Object.values(u).reduce((a, x) => a + x, 0)).toBeCloseTo(1, 9);
    // Names: listed too (a few of these made-up names fold to one: a title or suffix left out).
    expect(sets[at('name')].grouped!.pairs).toBeLessThan(50);
    // One name on all 3,000 records is 4.5 million pairs, too many to list: sampled like the other levels.
    const namesakes = randomPairs(
      records.map((r) => featuresOf('s', r.recordId, { name: 'same name', birthday: r.birth }, [])),
      { pairs: 20_000 },
    );
    expect(namesakes[at('name')].grouped).toBeUndefined();
    expect(chanceOf(namesakes, COMPARISONS)[at('name')].exact).toBeGreaterThan(0.99);
  });

  it("counts a Han name's homophones and its romanization whole too: they share its key", () => {
    const records = [...people(1000), ...['张伟', '章伟', 'Zhang Wei'].map((name, k) => featuresOf('s', `z${k}`, { name }, []))];
    const name = randomPairs(records, { pairs: 5_000 })[at('name')];
    const alias = name.grouped!.patterns.filter((p) => p.v[at('name')] === 'alias');
    expect(alias.reduce((a, p) => a + p.n, 0)).toBe(3);
    expect(hitsOf(name, COMPARISONS[at('name')], at('name'), 'alias')).toBeGreaterThanOrEqual(3);
  });

  it('is the same for the same records and seed, and draws nothing for a comparison left out or carried by no record', () => {
    const records = people(1500);
    const a = randomPairs(records, { pairs: 5_000, seed: 9 });
    const b = randomPairs(records, { pairs: 5_000, seed: 9 });
    expect(a).toEqual(b);
    const only = randomPairs(records, { pairs: 5_000, only: (c) => c.name === 'birthday' });
    expect(only[at('name')].drawn).toBe(0);
    expect(only[at('shared')].drawn).toBe(0);
    expect(only[at('birthday')].drawn).toBe(5_000);
    expect(randomPairs(records, { pairs: 5_000 })[at('place')].drawn).toBe(0);
  });

  it('takes out random pairs that are likely one person (a store of few people, many records each), and keeps the given u where nothing was drawn', () => {
    // 200 people, five records each with one name and birthday: one random pair in about 250 is one person.
    const records = Array.from({ length: 1000 }, (_, i) => featuresOf('s', `r${i}`, { name: `${letters(i % 200)} test`, birthday: day(i % 200) }, []));
    const sets = randomPairs(records, { pairs: 50_000, only: (c) => c.name === 'birthday' || c.name === 'name' });
    const raw = chanceOf(sets, COMPARISONS);
    const m = COMPARISONS.map((c) => Object.fromEntries(c.levels.map((l, i) => [l, i === 0 ? 0.9 : 0.1 / (c.levels.length - 1)])));
    const given = COMPARISONS.map((c) => Object.fromEntries(c.levels.map((l) => [l, 1 / c.levels.length])));
    const u = chanceAmongDifferent(sets, COMPARISONS, { m, u: given, lambda: 1 / 200 });
    // Taken as chance, an exact birthday is one pair in 200; among different people, no two share one.
    expect(raw[at('birthday')].exact).toBeGreaterThan(0.003);
    expect(u[at('birthday')].exact).toBeLessThan(raw[at('birthday')].exact / 5);
    expect(u[at('shared')]).toEqual(given[at('shared')]);
  });
});
