/**
 * The Fellegi-Sunter model as data: for each comparison level, m (how often two records of
 * one person agree so) and u (how often two records of different people do), estimated by
 * `em.ts` and kept in a weights file beside the rules. A pair's match weight is the prior
 * log-odds plus, per comparison, log2(m/u) of its level: in bits, so +10 is about 1000:1 for.
 *
 * One rule on top of the model: a shared phone or email between two people who are clearly
 * not one (different names; or no name to compare and different birthdays) is what a
 * household looks like, and weighs `householdPenalty` (negative) instead of its usual positive
 * weight. A weight, not a veto: the name's difference is weighed by the name comparison already,
 * and a pair's other evidence (one day of birth, one address) must be able to outweigh the
 * penalty, as it would for two records that share nothing.
 */
import { z } from 'zod';
import { COMPARISONS, type Comparison } from './compare';
import type { MatchFeatures } from './features';
import { placeShareKey, SHARED_PLACES } from './place-shares';
import { readJsonFile } from '../../json-file';

const levelSchema = z.object({ m: z.number().gt(0).lte(1), u: z.number().gt(0).lte(1) }).strict();

export const weightsFileSchema = z
  .object({
    description: z.string().optional(),
    /** What the estimate ran on and how it went: for people, not read by the model. */
    estimated: z.record(z.string(), z.unknown()).optional(),
    /** Share of all pairs of records that are matches, on `lambdaRecords` records: the prior before any comparison. */
    lambda: z.number().gt(0).lt(1),
    /** Records lambda was estimated on; the model rescales lambda to the records it runs on (matches grow with n, pairs with n²). */
    lambdaRecords: z.number().int().min(2).optional(),
    comparisons: z.record(z.string(), z.record(z.string(), levelSchema)),
  })
  .strict();

export type WeightsFile = z.infer<typeof weightsFileSchema>;

export interface Contribution {
  comparison: string;
  level: string;
  /** log2(m/u), or the household penalty. */
  weight: number;
  /** A city or postcode weighed by its own share of the store's records (`NameAdjust.placeShare`): that share. */
  share?: number;
}

export interface PairScore {
  weight: number;
  contributions: Contribution[];
  household: boolean;
}

export interface MatchModel {
  comparisons: readonly Comparison[];
  priorWeight: number;
  /** log2(m/u) per comparison and level. */
  levelWeight: ReadonlyArray<ReadonlyMap<string, number>>;
  householdPenalty: number;
  /**
   * `nameFrequency`: share of records carrying this pair's name in any writing (its largest name
   * block: homophones and romanizations together). An alias match is worth less for a common
   * name: its u is at least that share. `nameCount`: records carrying the pair's name as written,
   * the pair's own two included. An exact match then weighs as rare as the name is (see `modelOf`);
   * without it, its level's weight capped by `nameFrequency` as an alias's is.
   */
  score(vector: ReadonlyArray<string | null>, adjust?: NameAdjust): PairScore;
  /** `score(vector, adjust).weight`, the same sum in the same order, without the contributions: most pairs weigh under `review` and need no more. */
  weightOf(vector: ReadonlyArray<string | null>, adjust?: NameAdjust): number;
  /**
   * Upper bounds, per comparison, on what it can add: `most[i]` whatever it answers (0 when it
   * may answer null), `mostAt(i, level)` once it answered `level` (the household penalty and a
   * common name only ever take away from a level's weight; an exact name adds at most what a name
   * no other record carries weighs). With the prior, a pair
   * whose known levels and remaining comparisons cannot reach a threshold need not be compared further.
   */
  most: readonly number[];
  mostAt(i: number, level: string): number;
  /**
   * The share of the store's records in the city or postcode two records agree on, where the
   * store counted that place as more common than its level's u (`store-count.ts`, `placeShares`):
   * the larger of the two records' places (a typo of a district is that district). Undefined for
   * any other place level, or a place not counted so.
   */
  placeShareOf(vector: ReadonlyArray<string | null>, a: Pick<MatchFeatures, 'city' | 'postcode'>, b: Pick<MatchFeatures, 'city' | 'postcode'>): number | undefined;
}

/** What is known of a pair beyond its comparison levels (`MatchModel.score`): its name's frequency and count, its place's share. */
export interface NameAdjust {
  nameFrequency?: number;
  nameCount?: number;
  /**
   * `MatchModel.placeShareOf`: the city or postcode agreeing weighs at most `log2(m/share)` (two
   * different people agree on a district of a twentieth of the store one time in twenty, whatever
   * the average place), never less than the coarsest place level that agrees (a province).
   */
  placeShare?: number;
}

export function loadWeights(file: string): WeightsFile {
  const json = readJsonFile(file, 'match weights', (message, cause) => new Error(message, { cause }));
  const parsed = weightsFileSchema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: invalid match weights at key "${parsed.error.issues[0].path.join('.')}": ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/**
 * The model for a weights file; every comparison must be there, with m and u for its worst
 * level at least. A better level the file does not have (an older file, estimated before the
 * level existed or on data that never shows it: a street address on a world without addresses)
 * weighs as the next worse level does.
 */
export function modelOf(
  w: WeightsFile,
  householdPenalty: number,
  opts: {
    records?: number;
    comparisons?: readonly Comparison[];
    /** Shares of common places by `placeShareKey` (the store's count, `StoreChance.u`); none: every place weighs its level. */
    placeShares?: ReadonlyMap<string, number>;
  } = {},
): MatchModel {
  const comparisons = opts.comparisons ?? COMPARISONS;
  const m = new Map<string, number>();
  const u = new Map<string, number>();
  const levelWeight = comparisons.map((c) => {
    const levels = w.comparisons[c.name];
    if (!levels) throw new Error(`match weights: no comparison "${c.name}"`);
    const worst = c.levels[c.levels.length - 1];
    if (!levels[worst]) throw new Error(`match weights: no level "${worst}" for comparison "${c.name}"`);
    return new Map(
      c.levels.map((l) => {
        const p = levels[l];
        if (!p) return [l, Number.NaN] as const;
        m.set(`${c.name}:${l}`, p.m);
        u.set(`${c.name}:${l}`, p.u);
        return [l, Math.log2(p.m / p.u)] as const;
      }),
    );
  });
  // A better level never weighs less than a worse one: a level the estimate saw too rarely to
  // measure (day and month swapped, on data without such errors) keeps the weight of the next.
  for (const weights of levelWeight) {
    const levels = [...weights.keys()];
    for (let i = levels.length - 2; i >= 0; i--) {
      const worse = weights.get(levels[i + 1]) as number;
      if (!((weights.get(levels[i]) as number) >= worse)) weights.set(levels[i], worse);
    }
  }
  const lambda = priorLambda(w, opts.records);
  const priorWeight = Math.log2(lambda / (1 - lambda));
  const nameAt = comparisons.findIndex((c) => c.name === 'name');
  const birthAt = comparisons.findIndex((c) => c.name === 'birthday');
  const sharedAt = comparisons.findIndex((c) => c.name === 'shared');
  const isHousehold = (vector: ReadonlyArray<string | null>) => {
    const shared = sharedAt >= 0 && (vector[sharedAt] === 'shared' || vector[sharedAt] === 'shared-apart');
    const name = nameAt >= 0 ? vector[nameAt] : null;
    return shared && (name === 'different' || (name == null && birthAt >= 0 && vector[birthAt] === 'different'));
  };
  // An exact name weighs as rare as the name is among the store's records (term frequency): u is
  // the share of the others that carry it as written, with one more carrier at the level's
  // average u added to both counts, so that a name no one else carries is rare in proportion to
  // the store's size and not infinitely so, and a small store's counts lean on the average.
  const exactU = u.get('name:exact');
  const exactM = m.get('name:exact');
  const byCount = opts.records && exactU && exactM ? { m: exactM, pseudo: 1 / exactU, records: opts.records } : null;
  const exactByCount = (count: number) => (byCount ? Math.log2(byCount.m / ((Math.max(0, count - 2) + 1) / (byCount.records + byCount.pseudo))) : NaN);
  const placeAt = comparisons.findIndex((c) => c.name === 'place');
  // A common place agreeing is worth what its share says, never less than the coarsest agreement
  // (a province's: the last level before `different`). Not the next worse level's: a postcode that
  // is a district (Taichung's 407, on a twentieth of the store's postcodes) says less than an average city.
  const sharedPlaceWeight = (level: string, share: number) => {
    const levels = [...levelWeight[placeAt].keys()];
    const coarsest = levelWeight[placeAt].get(levels[levels.length - 2]) as number;
    const mL = m.get(`place:${level}`);
    return mL ? Math.min(levelWeight[placeAt].get(level) as number, Math.max(coarsest, Math.log2(mL / share))) : (levelWeight[placeAt].get(level) as number);
  };
  const isSharedPlace = (level: string | null): level is keyof typeof SHARED_PLACES => level != null && Object.hasOwn(SHARED_PLACES, level);
  const weightAt = (i: number, level: string, household: boolean, adjust: NameAdjust | undefined) => {
    if (household && i === sharedAt) return householdPenalty;
    if (i === placeAt && adjust?.placeShare && isSharedPlace(level)) return sharedPlaceWeight(level, adjust.placeShare);
    if (i !== nameAt || (level !== 'exact' && level !== 'alias')) return levelWeight[i].get(level) as number;
    if (level === 'exact' && byCount && adjust?.nameCount !== undefined) return exactByCount(adjust.nameCount);
    // An alias, or an exact name whose count is not known: capped by the name's frequency in any writing.
    const w = levelWeight[i].get(level) as number;
    return adjust?.nameFrequency ? Math.min(w, Math.log2((m.get(`name:${level}`) as number) / adjust.nameFrequency)) : w;
  };
  const mostAt = (i: number, level: string) =>
    Math.max(levelWeight[i].get(level) as number, i === sharedAt ? householdPenalty : -Infinity, i === nameAt && level === 'exact' && byCount ? exactByCount(0) : -Infinity);
  return {
    comparisons,
    priorWeight,
    levelWeight,
    householdPenalty,
    score(vector, adjust) {
      let weight = priorWeight;
      const contributions: Contribution[] = [{ comparison: 'prior', level: 'prior', weight: roundWeight(priorWeight) }];
      const household = isHousehold(vector);
      vector.forEach((level, i) => {
        if (level == null) return;
        const w = weightAt(i, level, household, adjust);
        weight += w;
        const shared = i === placeAt && adjust?.placeShare && isSharedPlace(level) && w < (levelWeight[i].get(level) as number);
        contributions.push({ comparison: comparisons[i].name, level, weight: roundWeight(w), ...(shared ? { share: Math.round(adjust.placeShare! * 1e4) / 1e4 } : {}) });
      });
      return { weight: roundWeight(weight), contributions, household };
    },
    weightOf(vector, adjust) {
      let weight = priorWeight;
      const household = isHousehold(vector);
      for (let i = 0; i < vector.length; i++) {
        const level = vector[i];
        if (level != null) weight += weightAt(i, level, household, adjust);
      }
      return roundWeight(weight);
    },
    most: levelWeight.map((weights, i) => Math.max(0, ...[...weights.keys()].map((l) => mostAt(i, l)))),
    mostAt,
    placeShareOf(vector, a, b) {
      const level = placeAt >= 0 ? vector[placeAt] : null;
      if (!opts.placeShares?.size || !isSharedPlace(level)) return undefined;
      const shareOf = (value: string | null) => (value ? (opts.placeShares!.get(placeShareKey(level, value)) ?? 0) : 0);
      const feature = SHARED_PLACES[level];
      return Math.max(shareOf(a[feature]), shareOf(b[feature])) || undefined;
    },
  };
}

/**
 * The share of matches among all pairs of `records` records: the file's, rescaled (matches grow
 * with n, pairs with n²). Fewer records than the estimate ran on never raise the prior: a small
 * store is not a reason to believe more.
 */
export function priorLambda(w: WeightsFile, records?: number): number {
  return w.lambdaRecords && records && records > w.lambdaRecords ? (w.lambda * (w.lambdaRecords - 1)) / (records - 1) : w.lambda;
}

/** A weight as contributions and thresholds read it: hundredths of a bit. */
export const roundWeight = (x: number) => Math.round(x * 100) / 100;
