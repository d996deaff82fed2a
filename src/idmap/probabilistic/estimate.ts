/**
 * Estimating the model's weights from a set of records, no labels, the way Splink does:
 * - u from random pairs (almost all of them different people, so how often a level occurs
 *   among them is how often it occurs by chance), drawn per comparison among the records that
 *   carry what it compares (`chance.ts`, as the tier counts u on a store);
 * - m by EM over the pairs one family of blocks compares, leaving out the comparison that
 *   family blocks on (every pair of a birthday block agrees on birthdays by construction, so
 *   those pairs say nothing about m for birthdays): names' m from birthday blocks, birthdays'
 *   m from name blocks, the other comparisons' m averaged over both;
 * - lambda, the share of matches among ALL pairs of records (the prior of a pair before any
 *   comparison, blocking field included): the matches EM finds among the blocked pairs, over
 *   n(n-1)/2. The tier rescales it to the number of records it runs on (`lambdaRecords`).
 * Deterministic for a given input and seed, so a weights file can be regenerated and diffed.
 */
import { COMPARISONS, compareRecords, type Comparison } from './compare';
import { chanceOf, largestMove, randomPairs, type PairSet } from './chance';
import { estimateM, matchPosterior, weightsFileOf, type Vector } from './em';
import type { MatchFeatures } from './features';
import { distinctPairs, expectedMatches, familyPairs } from './prior';
import type { WeightsFile } from './model';

export interface EstimateOptions {
  /** Blocks larger than this are left out, as the tier leaves them. */
  maxBlock: number;
  /** Most pairs to use per block family. */
  maxPairs?: number;
  /** Random pairs per comparison (`chance.ts`). */
  randomPairs?: number;
  seed?: number;
  comparisons?: readonly Comparison[];
  /** Recorded in the file, for people: what the estimate ran on. */
  describe?: Record<string, unknown>;
}

/** Most fits of m on a corrected u (see `estimateWeights`). */
const MAX_U_ROUNDS = 6;

export function estimateWeights(records: readonly MatchFeatures[], opts: EstimateOptions): WeightsFile {
  const comparisons = opts.comparisons ?? COMPARISONS;
  const byName = (n: string) => comparisons.findIndex((c) => c.name === n);
  const { byFamily: pairsOf, rate } = familyPairs(records, opts.maxBlock, opts.maxPairs ?? 300_000);
  const vectors = (family: string) => (pairsOf.get(family) ?? []).map(([i, j]) => compareRecords(records[i], records[j], comparisons));
  const random = randomPairs(records, { comparisons, pairs: opts.randomPairs, seed: opts.seed });
  const n = records.length;
  const without = (vs: Vector[], idx: number) => vs.map((v) => v.map((l, i) => (i === idx ? null : l)));
  const birthVectors = vectors('b');
  const nameVectors = vectors('n');
  const all = distinctPairs(pairsOf).map(([i, j]) => compareRecords(records[i], records[j], comparisons));
  const fit = (u: Array<Record<string, number>>) => {
    const fromBirth = estimateM(without(birthVectors, byName('birthday')), u, comparisons);
    const fromName = estimateM(without(nameVectors, byName('name')), u, comparisons);
    const m = comparisons.map((c, i) => {
      if (c.name === 'name') return fromBirth.m[i];
      if (c.name === 'birthday') return fromName.m[i];
      return Object.fromEntries(c.levels.map((l) => [l, (fromBirth.m[i][l] + fromName.m[i][l]) / 2]));
    });
    // The prior on the whole cartesian product: matches expected among every pair of records,
    // counted as the matches EM finds among all distinct blocked pairs (blocks catch nearly all).
    const matches = expectedMatches(all, m, u, ((n * (n - 1)) / 2) * rate) / rate;
    const lambda = Math.max(1e-12, matches / ((n * (n - 1)) / 2));
    return { m, lambda, matches, iterations: fromBirth.iterations + fromName.iterations, converged: fromBirth.converged && fromName.converged };
  };
  // u counts how often a level occurs by chance, among pairs of different people; random pairs
  // are almost all that, but not quite on a small store or one with many records per person
  // (1,000 records of 500 people: one random pair in a thousand is a match, and an exact name's
  // u came out ten times too high). So u is counted again with each random pair weighed by how
  // likely the fit finds it is two people, and m and lambda fitted again on that u, until u
  // settles (no level's weight moving by 0.1 bit; a few rounds).
  let u = chanceOf(random, comparisons);
  let fitted = fit(u);
  let rounds = 1;
  let matchesAmongRandom = 0;
  for (; rounds < MAX_U_ROUNDS; rounds++) {
    const { m: fm, lambda: fl } = fitted;
    const was = u;
    matchesAmongRandom = random.reduce((sum, set) => sum + set.patterns.reduce((a, p) => a + p.n * matchPosterior(p.v, fm, was, fl), 0), 0);
    const next = chanceOf(random, comparisons, (v) => 1 - matchPosterior(v, fm, was, fl));
    const moved = largestMove(u, next);
    u = next;
    fitted = fit(u);
    if (moved < 0.1) break;
  }
  const { m, lambda, matches } = fitted;
  const seen = levelsSeen(all, random, comparisons);
  const unseen = comparisons.flatMap((c, i) =>
    c.levels
      .slice(0, -1)
      .filter((l) => !seen[i].has(l))
      .map((l) => `${c.name}.${l}`),
  );
  const estimated = {
    ...opts.describe,
    records: n,
    expectedMatchingPairs: Math.round(matches),
    randomPairsTakenForMatches: Math.round(matchesAmongRandom),
    uRounds: rounds,
    birthdayBlockPairs: birthVectors.length,
    nameBlockPairs: nameVectors.length,
    randomPairs: random.reduce((a, set) => a + set.drawn, 0),
    maxBlock: opts.maxBlock,
    ...(unseen.length ? { unseen } : {}),
  };
  return weightsFileOf({ lambda, m, iterations: fitted.iterations, converged: fitted.converged }, u, comparisons, estimated, seen);
}

/** The levels each comparison showed on at least one compared or random pair. */
function levelsSeen(compared: readonly Vector[], random: readonly PairSet[], comparisons: readonly Comparison[]): Array<Set<string>> {
  const seen = comparisons.map(() => new Set<string>());
  const add = (v: Vector) => v.forEach((l, i) => l != null && seen[i].add(l));
  compared.forEach(add);
  for (const set of random) for (const p of [...set.patterns, ...(set.grouped?.patterns ?? [])]) add(p.v);
  return seen;
}

/**
 * `estimate` with the levels it left out (`unseen`: the data never showed them) taken from
 * `base`, an earlier file: re-estimating on records without street addresses keeps what an
 * estimate on records with addresses found, instead of weighing an agreeing address as a city.
 * `estimated.kept` says, per level taken, what it was estimated on.
 */
export function withUnseenLevelsFrom(estimate: WeightsFile, base: WeightsFile): WeightsFile {
  const origins = (base.estimated?.kept ?? {}) as Record<string, string>;
  const baseOn = String(base.estimated?.on ?? 'an earlier weights file') + (base.estimated?.at ? ` (${String(base.estimated.at)})` : '');
  const kept: Record<string, string> = {};
  const comparisons = Object.fromEntries(
    Object.entries(estimate.comparisons).map(([name, levels]) => {
      const merged = { ...levels };
      for (const [level, p] of Object.entries(base.comparisons[name] ?? {}))
        if (!merged[level]) {
          merged[level] = p;
          kept[`${name}.${level}`] = origins[`${name}.${level}`] ?? baseOn;
        }
      // Best level first, as the comparison orders them, for people reading the file.
      const order = COMPARISONS.find((c) => c.name === name)?.levels ?? [];
      const rank = (l: string) => (order.includes(l) ? order.indexOf(l) : order.length);
      return [name, Object.fromEntries(Object.entries(merged).sort(([a], [b]) => rank(a) - rank(b)))];
    }),
  );
  if (!Object.keys(kept).length) return estimate;
  return { ...estimate, estimated: { ...estimate.estimated, kept }, comparisons };
}
