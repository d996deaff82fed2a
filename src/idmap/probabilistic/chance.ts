/**
 * u, the chance that two different people's records agree at a level, counted on random pairs
 * of records. It is a property of the data, not of how records go wrong: how many people share
 * a birthday depends on the customers' ages, how many share a city on how many cities the
 * customers live in, how often two names are close on the names in use. So the tier counts it
 * on the store's own records (`probabilistic.chance: "store"`, `resolve.ts`), while m, how
 * often one person's records agree so, comes from the weights file; `estimate.ts` counts it the
 * same way before fitting m.
 *
 * Pairs are drawn per comparison among the records that carry what it compares (a name, a
 * birthday, a place, identifiers): u is the chance of a level given that both sides are known,
 * and when only one record in seven carries a birthday, pairs drawn among all records would
 * know both birthdays one time in fifty, and an exact birthday's u would be mostly the
 * smoothing count.
 */
import { COMPARISONS, compareRecords, type Comparison } from './compare';
import { levelFrequencies, matchPosterior, type Vector } from './em';
import type { MatchFeatures } from './features';

/** Random pairs drawn per comparison, by default. */
export const CHANCE_PAIRS = 500_000;

/** A level seen on fewer random pairs than this keeps the weights file's u (too rare to count). */
export const MIN_CHANCE_HITS = 10;

/** Most rounds of counting u again among the pairs the model finds to be two people. */
const MAX_ROUNDS = 6;

export interface ChanceOptions {
  /** Pairs to draw per comparison. */
  pairs?: number;
  /** The comparisons to draw pairs for (the others' sets are empty); all by default. */
  only?: (c: Comparison) => boolean;
  seed?: number;
  comparisons?: readonly Comparison[];
}

/** Random pairs with the same comparison vector, counted once. */
export interface Pattern {
  v: Vector;
  n: number;
}

/**
 * One comparison's random pairs: those at its worst level (`different`, `none`: nearly all of
 * them) only counted, taken as two people (m of a worst level is small, and a pair of one person
 * that disagrees there is rarer still among random pairs); the others kept as whole comparison
 * vectors, so that the model can say how likely each is one person.
 */
export interface PairSet {
  drawn: number;
  worst: number;
  patterns: Pattern[];
  /**
   * For a comparison with a group key (`Comparison.groupKey`): every pair of the records that
   * share a key (all the pairs at its best level among them), counted whole, not sampled (an
   * exact birthday or name is rare, and ten random pairs of 500,000 would set its u to ±30%);
   * `pairs` of them, of `of` pairs of the records in all. The random pairs then stand for the
   * pairs that share no key.
   */
  grouped?: { patterns: Pattern[]; pairs: number; of: number };
}

/** Most pairs counted whole; a comparison with more (a store of few birthdays) is sampled throughout. */
const MAX_GROUPED_PAIRS = 2_000_000;

/**
 * Random pairs per comparison, drawn among the records that carry what it compares (its level
 * known on every one of them, or as nearly as the data allows: a place is known on both sides
 * only when both name one at the same grain). Deterministic for a given input and seed.
 */
export function randomPairs(records: readonly MatchFeatures[], opts: ChanceOptions = {}): PairSet[] {
  const comparisons = opts.comparisons ?? COMPARISONS;
  const wanted = opts.pairs ?? CHANCE_PAIRS;
  const rand = mulberry32(opts.seed ?? 1);
  return comparisons.map((c) => {
    if (opts.only && !opts.only(c)) return { drawn: 0, worst: 0, patterns: [] };
    const worstLevel = c.levels[c.levels.length - 1];
    const carriers = records.filter((r) => c.compare(r, r) != null);
    const byKey = new Map<string, Pattern>();
    const n = carriers.length;
    const keys = c.groupKey ? carriers.map(c.groupKey) : null;
    const grouped = keys ? groupedPairs(carriers, keys, comparisons) : undefined;
    let drawn = 0;
    let worst = 0;
    for (let tries = 0; n > 1 && drawn < wanted && tries < wanted * 4; tries++) {
      const i = Math.floor(rand() * n);
      const j = Math.floor(rand() * n);
      if (i === j) continue;
      if (grouped && keys![i] != null && keys![i] === keys![j]) continue; // counted whole
      const level = c.compare(carriers[i], carriers[j]);
      if (level == null) continue;
      drawn++;
      if (level === worstLevel) {
        worst++;
        continue;
      }
      countPattern(byKey, compareRecords(carriers[i], carriers[j], comparisons));
    }
    return { drawn, worst, patterns: [...byKey.values()], grouped };
  });
}

/** Every pair of `carriers` sharing a key, as patterns; undefined when there are too many. */
function groupedPairs(carriers: readonly MatchFeatures[], keys: ReadonlyArray<string | null>, comparisons: readonly Comparison[]): PairSet['grouped'] {
  const groups = new Map<string, MatchFeatures[]>();
  keys.forEach((key, k) => {
    if (key == null) return;
    const list = groups.get(key);
    if (list) list.push(carriers[k]);
    else groups.set(key, [carriers[k]]);
  });
  let pairs = 0;
  for (const list of groups.values()) pairs += (list.length * (list.length - 1)) / 2;
  if (pairs > MAX_GROUPED_PAIRS) return undefined;
  const byKey = new Map<string, Pattern>();
  for (const list of groups.values())
    for (let x = 0; x < list.length; x++) for (let y = x + 1; y < list.length; y++) countPattern(byKey, compareRecords(list[x], list[y], comparisons));
  return { patterns: [...byKey.values()], pairs, of: (carriers.length * (carriers.length - 1)) / 2 };
}

/** One more pair with comparison vector `v`. */
function countPattern(byKey: Map<string, Pattern>, v: Vector): void {
  const k = v.map((l) => l ?? '').join('\u0001');
  const p = byKey.get(k);
  if (p) p.n++;
  else byKey.set(k, { v, n: 1 });
}

/**
 * u per comparison from its random pairs: each level's share, smoothed by one pair per level as
 * `levelFrequencies` smooths, each pair counted by `different(v)`, the chance it is two people
 * (1 when not given; pairs at the worst level always 1).
 */
export function chanceOf(sets: readonly PairSet[], comparisons: readonly Comparison[], different?: (v: Vector) => number): Array<Record<string, number>> {
  return comparisons.map((c, i) => {
    const set = sets[i];
    const weight = (p: Pattern) => p.n * (different ? different(p.v) : 1);
    const worst: Vector = [c.levels[c.levels.length - 1]];
    const sampled = levelFrequencies([worst, ...set.patterns.map((p) => [p.v[i]])], [c], [set.worst, ...set.patterns.map(weight)])[0];
    if (!set.grouped) return sampled;
    // The pairs sharing a key counted whole; the random pairs share out those that share none.
    const g = set.grouped;
    const counted = Object.fromEntries(c.levels.map((l) => [l, 0])) as Record<string, number>;
    for (const p of g.patterns) if (p.v[i] != null) counted[p.v[i] as string] += weight(p);
    // No pair sharing no key is at the best level (the key's promise): its smoothing count goes too.
    const top = c.levels[0];
    const outside = (g.of - g.pairs) / (1 - sampled[top]);
    const total = c.levels.reduce((a, l) => a + counted[l], 0) + g.of - g.pairs;
    return Object.fromEntries(c.levels.map((l) => [l, (counted[l] + (l === top ? 0 : sampled[l] * outside)) / total]));
  });
}

/** How many pairs, drawn or counted whole, a comparison (at index `at`) saw at a level (unweighted). */
export function hitsOf(set: PairSet, c: Comparison, at: number, level: string): number {
  const among = (patterns: readonly Pattern[]) => patterns.reduce((sum, p) => sum + (p.v[at] === level ? p.n : 0), 0);
  return among(set.patterns) + among(set.grouped?.patterns ?? []) + (level === c.levels[c.levels.length - 1] ? set.worst : 0);
}

/**
 * u among different people, with m, the prior, and u where no pair was drawn known: random pairs
 * are almost all two people, but not quite (least of all on a small store or one with many records
 * per person), so u is counted again with each pair weighed by the chance the model gives it of
 * being two people, until no level's weight moves by 0.1 bit.
 */
export function chanceAmongDifferent(
  sets: readonly PairSet[],
  comparisons: readonly Comparison[],
  model: { m: ReadonlyArray<Record<string, number>>; u: ReadonlyArray<Record<string, number>>; lambda: number },
): Array<Record<string, number>> {
  // A comparison no pair was drawn for keeps the model's u.
  const count = (different?: (v: Vector) => number) => chanceOf(sets, comparisons, different).map((u, i) => (sets[i].drawn ? u : model.u[i]));
  let u = count();
  for (let round = 1; round < MAX_ROUNDS; round++) {
    const next = count((v) => 1 - matchPosterior(v, model.m, u, model.lambda));
    const moved = largestMove(u, next);
    u = next;
    if (moved < 0.1) break;
  }
  return u;
}

/** The largest change of a level's weight, in bits, between two sets of u. */
export function largestMove(a: ReadonlyArray<Record<string, number>>, b: ReadonlyArray<Record<string, number>>): number {
  return Math.max(...b.flatMap((levels, i) => Object.keys(levels).map((l) => Math.abs(Math.log2(levels[l] / a[i][l])))));
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
