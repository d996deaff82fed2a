/**
 * The counting of `store-chance.ts` on a sample of the store's records: u among random pairs of
 * different people and the prior among blocked pairs. Pure computation on plain data (records'
 * features, the weights file, record → customer), so that it can run on another thread
 * (`count-thread.ts`) while the caller's event loop goes on.
 */
import { COMPARISONS, type Comparison } from './compare';
import { chanceAmongDifferent, hitsOf, randomPairs, MIN_CHANCE_HITS } from './chance';
import type { MatchFeatures } from './features';
import { priorLambda, type WeightsFile } from './model';
import { priorOf, type StorePrior } from './prior';
import { recordKeyString } from '../tables';
import { placeShares } from './place-shares';

export interface CountInput {
  /** The sampled records' features, in key order (the same sample draws the same pairs). */
  sample: MatchFeatures[];
  weights: WeightsFile;
  /** Records in the store, for the file's prior. */
  records: number;
  /** The rules' block size cap, as the prior's pairs are blocked. */
  maxBlock: number;
  /** The sampled records' customers, by `recordKeyString`. */
  customers: ReadonlyMap<string, string>;
  /** Random pairs drawn per comparison (`CHANCE_PAIRS` by default). */
  pairs?: number;
}

/** u of one level of a trait's comparison, from how many random pairs. */
export interface CountedLevel {
  comparison: string;
  level: string;
  u: number;
  pairs: number;
  hits: number;
}

export interface CountResult {
  levels: CountedLevel[];
  prior: StorePrior | null;
}

/** u of every level of the traits' comparisons, and the prior with m from the file and u as the model will have it. */
export function countOnSample(input: CountInput): CountResult {
  const levels = countChance(input);
  return { levels, prior: countPrior(input, levels) };
}

/**
 * u of every level of the traits' comparisons, and the places more common than their level's u
 * (`placeShares`): needs no customer, so it may be counted before the records are linked.
 */
export function countChance({ sample, weights, records, pairs }: Omit<CountInput, 'customers' | 'maxBlock'>): CountedLevel[] {
  const comparisons = COMPARISONS;
  const sets = randomPairs(sample, { comparisons, pairs, only: (c) => c.trait });
  const file = fileLevels(weights);
  const u = chanceAmongDifferent(sets, comparisons, {
    m: file.map((levels) => levelsOf(levels, 'm')),
    u: file.map((levels) => levelsOf(levels, 'u')),
    lambda: priorLambda(weights, records),
  });
  const levels = comparisons.flatMap((c, i) =>
    !c.trait ? [] : c.levels.map((level) => ({ comparison: c.name, level, u: u[i][level], pairs: sets[i].drawn, hits: hitsOf(sets[i], c, i, level) })),
  );
  return [...levels, ...placeShares(sample, levels)];
}

/** The prior on the sample, with m from the file and u as counted (the file's where a level was too rare to count). */
export function countPrior({ sample, weights, maxBlock, customers }: Omit<CountInput, 'records' | 'pairs'>, levels: readonly CountedLevel[]): StorePrior | null {
  const comparisons = COMPARISONS;
  const file = fileLevels(weights);
  const counted = usableChance(levels);
  const u = comparisons.map((c, k) => Object.fromEntries(c.levels.map((l) => [l, counted.get(`${c.name}:${l}`) ?? file[k][l].u])));
  return priorOf(
    sample,
    comparisons,
    file.map((levels) => levelsOf(levels, 'm')),
    u,
    { maxBlock, customerOf: (r) => customers.get(recordKeyString(r)) },
  );
}

/** u by `comparison:level`, for the levels seen on enough random pairs to count on. */
export function usableChance(levels: ReadonlyArray<{ comparison: string; level: string; u: number | string; hits: number }>): Map<string, number> {
  return new Map(levels.filter((r) => r.hits >= MIN_CHANCE_HITS).map((r) => [`${r.comparison}:${r.level}`, Number(r.u)]));
}

/** m and u of every comparison's levels, by level, as `fileLevel` reads them. */
function fileLevels(weights: WeightsFile): Array<Record<string, { m: number; u: number }>> {
  return COMPARISONS.map((c) => Object.fromEntries(c.levels.map((l, i) => [l, fileLevel(weights, c, i)])));
}

const levelsOf = (levels: Record<string, { m: number; u: number }>, which: 'm' | 'u') => Object.fromEntries(Object.entries(levels).map(([l, p]) => [l, p[which]]));

/** m and u of a level, or of the next worse level the file has (as the model weighs a missing level). */
function fileLevel(weights: WeightsFile, c: Comparison, at: number): { m: number; u: number } {
  const levels = weights.comparisons[c.name] ?? {};
  for (let i = at; i < c.levels.length; i++) if (levels[c.levels[i]]) return levels[c.levels[i]];
  return { m: 1, u: 1 };
}
