/**
 * The prior, λ: the share of matches among all pairs of records, before any comparison. It is a
 * property of the store, like u (`chance.ts`): how many records each customer has in it, spread
 * over how many records. A store of 1,000 records of 251 people (Splink's fake_1000) has λ =
 * 0.0041; the noisy demo world the weights file was estimated on, 0.00019 at 9,785 records, and
 * rescaled to 1,000 records 0.0019. So the tier counts it on the store, as the estimate does on
 * its records: the matches EM expects among the pairs the blocks compare (m and u held), over all
 * n(n-1)/2 pairs. A match no block or rule reaches is not counted, so the count is at most the
 * store's λ, and the tier takes the higher of it and the file's (`store-chance.ts`, `withChance`).
 */
import { compareRecords, type Comparison } from './compare';
import { matchPosterior, patternsOf, type Vector } from './em';
import { blockFamily, blockKeys, type MatchFeatures } from './features';

/** The pairs (record indexes) each block family compares, and the share of all such pairs they are. */
export interface FamilyPairs {
  byFamily: Map<string, Array<[number, number]>>;
  /** 1, or, where a family has more than `maxPairs` pairs, the share of every family's pairs kept (the same for all). */
  rate: number;
}

/**
 * Pairs each block family compares, each pair once per family; blocks over `maxBlock` left out, as
 * the tier leaves them. Where a family has more than `maxPairs` pairs, a uniform sample of them (a
 * pair kept or not by a hash of its two records, so it is kept or not in every block and family
 * alike): counts over the pairs scale by 1 / `rate`. The first `maxPairs` pairs in block order
 * would be the blocks of the first records only: on Splink's historical 50k, whose birthday blocks
 * hold 393,951 pairs, the prior counted on the first 300,000 was 0.86 of the count on all of them.
 */
export function familyPairs(records: readonly MatchFeatures[], maxBlock: number, maxPairs: number): FamilyPairs {
  const blocks = new Map<string, number[]>();
  records.forEach((r, i) => {
    for (const k of blockKeys(r)) {
      const list = blocks.get(k);
      if (list) list.push(i);
      else blocks.set(k, [i]);
    }
  });
  // Pairs per family, a pair two blocks of one family share counted twice: the rate errs low, never over maxPairs.
  const totals = new Map<string, number>();
  for (const [key, list] of blocks) {
    if (list.length < 2 || list.length > maxBlock) continue;
    const family = blockFamily(key);
    totals.set(family, (totals.get(family) ?? 0) + (list.length * (list.length - 1)) / 2);
  }
  const rate = Math.min(1, maxPairs / Math.max(1, ...totals.values()));
  const keepUnder = rate < 1 ? rate * 2 ** 32 : Infinity;
  const byFamily = new Map<string, Array<[number, number]>>();
  const seen = new Set<string>();
  for (const [key, list] of blocks) {
    if (list.length < 2 || list.length > maxBlock) continue;
    const family = blockFamily(key);
    const pairs = byFamily.get(family) ?? [];
    byFamily.set(family, pairs);
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const [i, j] = list[x] < list[y] ? [list[x], list[y]] : [list[y], list[x]];
        if (pairHash(i, j) >= keepUnder) continue;
        const k = `${family}${i},${j}`;
        if (seen.has(k)) continue;
        seen.add(k);
        pairs.push([i, j]);
      }
    }
  }
  return { byFamily, rate };
}

/** A pair's 32-bit hash (murmur3's finalizer over both indexes): uniform, and the same on every run. */
function pairHash(i: number, j: number): number {
  let h = Math.imul(i, 0x9e3779b1) ^ Math.imul(j ^ 0x7f4a7c15, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The distinct pairs of all families. */
export function distinctPairs(byFamily: ReadonlyMap<string, ReadonlyArray<readonly [number, number]>>): Array<[number, number]> {
  const distinct = new Map<string, [number, number]>();
  for (const list of byFamily.values()) for (const [i, j] of list) distinct.set(`${i},${j}`, [i, j]);
  return [...distinct.values()];
}

/**
 * The matches EM expects among `vectors`, pairs the blocks compare of `allPairs` pairs in all (m
 * and u fixed), `known` matches besides (pairs of one customer already, not among `vectors`).
 * Each is weighed with the prior over ALL pairs, as the tier weighs it: its vector already holds
 * the agreement that put it in a block, and a prior among blocked pairs would count that
 * agreement twice (every pair of a common name's block would look like one person: on the Faker
 * world 79,691 expected matches among 82,540 blocked pairs, of 28,176 in truth). Pairs no block
 * compares are taken as two people. Counted by distinct vector, so each iteration costs the
 * vectors' variety.
 */
export function expectedMatches(
  vectors: readonly Vector[],
  m: ReadonlyArray<Record<string, number>>,
  u: ReadonlyArray<Record<string, number>>,
  allPairs: number,
  known = 0,
): number {
  const patterns = patternsOf(vectors);
  let matches = Math.max(vectors.length / 10, 1);
  for (let it = 0; it < 500; it++) {
    const lambda = Math.min(0.999, (known + matches) / Math.max(allPairs, 1));
    let sum = 0;
    for (const { v, n } of patterns) sum += n * matchPosterior(v, m, u, lambda);
    if (Math.abs(sum - matches) < 1e-3 * Math.max(matches, 1)) return sum;
    matches = sum;
  }
  return matches;
}

export interface StorePrior {
  /** Share of matches among all pairs of the records. */
  lambda: number;
  /** Pairs the blocks compared of two customers, and the matches expected: those EM finds among them and the pairs of one customer. */
  pairs: number;
  matches: number;
}

/** Fewer expected matches than this, and the prior is the weights file's: too few to count on. */
export const MIN_PRIOR_MATCHES = 10;

/**
 * λ on `records` (the store, or a uniform sample of it: matches and pairs shrink alike): the
 * pairs the store already holds as one customer (`customerOf`; most of a store's matches share an
 * identifier, and many such records carry no name to block on: on the default demo world blocks
 * alone found a tenth of its matches) and the matches EM expects among the blocked pairs of two
 * customers. Null when there are too few matches to count.
 */
export function priorOf(
  records: readonly MatchFeatures[],
  comparisons: readonly Comparison[],
  m: ReadonlyArray<Record<string, number>>,
  u: ReadonlyArray<Record<string, number>>,
  opts: { maxBlock: number; maxPairs?: number; customerOf?: (r: MatchFeatures) => string | undefined },
): StorePrior | null {
  const n = records.length;
  const all = (n * (n - 1)) / 2;
  const customers = records.map((r) => opts.customerOf?.(r));
  const sizes = new Map<string, number>();
  for (const c of customers) if (c) sizes.set(c, (sizes.get(c) ?? 0) + 1);
  let known = 0;
  for (const k of sizes.values()) known += (k * (k - 1)) / 2;
  const { byFamily, rate } = familyPairs(records, opts.maxBlock, opts.maxPairs ?? 300_000);
  const pairs = distinctPairs(byFamily).filter(([i, j]) => !customers[i] || customers[i] !== customers[j]);
  // On a sample of the blocked pairs, every count shrinks by its rate alike, and λ with it not at all.
  const found =
    expectedMatches(
      pairs.map(([i, j]) => compareRecords(records[i], records[j], comparisons)),
      m,
      u,
      all * rate,
      known * rate,
    ) / rate;
  const matches = known + found;
  if (matches < MIN_PRIOR_MATCHES) return null;
  return { lambda: matches / all, pairs: Math.round(pairs.length / rate), matches };
}
