/**
 * The prior counted on a store's records (`src/idmap/probabilistic/prior.ts`): where its blocks
 * hold more pairs than it compares, a uniform sample of them stands for all, not the blocks of
 * the first records.
 */
import path from 'node:path';
import { COMPARISONS } from '../../src/idmap/probabilistic/compare';
import { featuresOf, type MatchFeatures } from '../../src/idmap/probabilistic/features';
import { familyPairs, priorOf } from '../../src/idmap/probabilistic/prior';
import { chanceOf, randomPairs } from '../../src/idmap/probabilistic/chance';
import { loadWeights } from '../../src/idmap/probabilistic/model';

const weights = loadWeights(path.resolve(__dirname, '../../config/identity-weights.json'));
const m = COMPARISONS.map((c) => Object.fromEntries(c.levels.map((l) => [l, weights.comparisons[c.name]?.[l]?.m ?? 0])));
const day = (n: number) => new Date(Date.UTC(1990, 0, 1) + n * 86_400_000).toISOString().slice(0, 10);
const letters = (i: number): string => (i < 26 ? 'abcdefghijklmnopqrstuvwxyz'[i] : letters(Math.floor(i / 26) - 1) + letters(i % 26));

/** 3,000 people with one record, then 1,000 with two (a name and a birthday alike), all born on one of 60 days. */
function store(): MatchFeatures[] {
  const one = Array.from({ length: 3000 }, (_, i) => featuresOf('s', `a${i}`, { name: `${letters(i)} test`, birthday: day(i % 60) }, []));
  const two = Array.from({ length: 1000 }, (_, i) =>
    [0, 1].map((k) => featuresOf('s', `b${i}-${k}`, { name: `${letters(3000 + i)} test`, birthday: day(i % 60) }, [])),
  ).flat();
  return [...one, ...two];
}

/** u as the store counts it (born on one of 60 days, every name `… test`), the file's where no random pair showed the level. */
function chanceOn(records: readonly MatchFeatures[]) {
  const counted = chanceOf(randomPairs(records, { pairs: 100_000 }), COMPARISONS);
  return COMPARISONS.map((c, i) => Object.fromEntries(c.levels.map((l) => [l, counted[i][l] || (weights.comparisons[c.name]?.[l]?.u ?? 1)])));
}

describe('the prior counted on the blocked pairs', () => {
  it('counts on a uniform sample of the pairs where the blocks hold more than it may compare, and scales the count back', () => {
    const records = store();
    const u = chanceOn(records);
    const all = priorOf(records, COMPARISONS, m, u, { maxBlock: 200 })!;
    const sampled = priorOf(records, COMPARISONS, m, u, { maxBlock: 200, maxPairs: 10_000 })!;
    // 1,000 matches among 5,000 × 4,999 / 2 pairs; the 60 birthday blocks of about 83 records hold 200,000 pairs.
    const truth = 1000 / ((5000 * 4999) / 2);
    expect(all.lambda).toBeGreaterThan(0.9 * truth);
    expect(all.lambda).toBeLessThan(1.1 * truth);
    expect(sampled.lambda / all.lambda).toBeGreaterThan(0.85);
    expect(sampled.lambda / all.lambda).toBeLessThan(1.15);
    expect(sampled.pairs / all.pairs).toBeGreaterThan(0.85);
    expect(sampled.pairs / all.pairs).toBeLessThan(1.15);
  });

  it('keeps a pair or not by its records alone, so the sample is the same in every block and on every run', () => {
    const records = store();
    const a = familyPairs(records, 200, 10_000);
    const b = familyPairs(records, 200, 10_000);
    expect(a.rate).toBeLessThan(0.1);
    expect(a.byFamily.get('b')!.length).toBeLessThanOrEqual(10_000);
    expect(a.byFamily.get('b')!.length).toBeGreaterThan(5_000);
    expect(b.byFamily.get('b')).toEqual(a.byFamily.get('b'));
    // From every birthday's block, not the first few in block order (10,000 pairs are three blocks' worth).
    expect(new Set(a.byFamily.get('b')!.map(([i]) => records[i].birth)).size).toBe(60);
    // Without a cap, every pair of every block under the size cap.
    expect(familyPairs(records, 200, Infinity).rate).toBe(1);
  });
});
