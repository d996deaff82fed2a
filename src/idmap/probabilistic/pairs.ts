/**
 * One compared pair, as both ways the tier runs build it: per batch (`tier.ts`) and, on a first
 * comparison, per block (`first-run.ts`). One scoring function, so the two cannot drift apart.
 */
import type { Comparison } from './compare';
import type { MatchFeatures } from './features';
import type { MatchModel, NameAdjust, PairScore } from './model';
import { familyNames } from './names';
import { givenNameReadApart } from './given-name-apart';

export type Rec = MatchFeatures & { customerId: string | null; scored: boolean };

export interface ScoredPair {
  a: Rec;
  b: Rec;
  score: PairScore;
  /** The name or the birthday agrees: without that, a pair is at most a review candidate. */
  about: boolean;
}

/**
 * Levels that say "this is the same person" by themselves, not through an identifier. A birthday
 * one digit off is a typo of one (a household's birthdays are years and days apart; twins' are one,
 * and `familyNames` keeps them apart): on the Faker and Splink worlds 0.1–1.4 recall points more,
 * no wrong pair more.
 */
const AGREEING: Readonly<Record<string, readonly string[]>> = { name: ['exact', 'alias', 'close'], birthday: ['exact', 'swapped', 'typo'] };

function personEvidence(vector: ReadonlyArray<string | null>, model: MatchModel): boolean {
  return model.comparisons.some((c, i) => vector[i] != null && (AGREEING[c.name] ?? []).includes(vector[i] as string));
}

const nameIndexes = new WeakMap<readonly Comparison[], number>();
function nameIndexOf(comparisons: readonly Comparison[]): number {
  let at = nameIndexes.get(comparisons);
  if (at === undefined) nameIndexes.set(comparisons, (at = comparisons.findIndex((c) => c.name === 'name')));
  return at;
}

/**
 * Weights are rounded to hundredths before they meet a threshold: a bound this far under it
 * rounds under it too, whatever the floating-point error of summing in another order.
 */
const ROUNDING = 0.01;

/** The order a pair's comparisons are made in: the name's (the dearest) last, so a pair the rest already rule out never compares names. */
const orders = new WeakMap<readonly Comparison[], number[]>();
function orderOf(comparisons: readonly Comparison[]): number[] {
  let order = orders.get(comparisons);
  if (!order) {
    const all = comparisons.map((_, i) => i);
    orders.set(comparisons, (order = [...all.filter((i) => comparisons[i].name !== 'name'), ...all.filter((i) => comparisons[i].name === 'name')]));
  }
  return order;
}

let scratch: Array<string | null> = [];

/**
 * The pair's comparison vector (as `compareRecords` makes it), or null as soon as the levels
 * known and the most the others can add cannot reach `review`: most pairs of a block are two
 * people, and stop before their names are compared.
 */
export function vectorReaching(x: Rec, y: Rec, model: MatchModel, review: number): Array<string | null> | null {
  const { comparisons, most } = model;
  const order = orderOf(comparisons);
  let bound = model.priorWeight;
  for (const m of most) bound += m;
  // One vector for every pair that stops (most of them); a pair that reaches review gets its own.
  if (scratch.length !== comparisons.length) scratch = new Array<string | null>(comparisons.length);
  for (const i of order) {
    const level = comparisons[i].compare(x, y);
    scratch[i] = level;
    bound += (level == null ? 0 : model.mostAt(i, level)) - most[i];
    if (bound < review - ROUNDING) return null;
  }
  return scratch.slice();
}

/**
 * Compares `x` (the record whose batch compares the pair, whose name's frequency and count are
 * `name`) with `y`; the pair, `a` before `b` in key order, when it weighs at least `review`, else null.
 */
export function scorePair(x: Rec, xKey: string, y: Rec, yKey: string, model: MatchModel, review: number, name: NameAdjust | undefined): ScoredPair | null {
  const vector = vectorReaching(x, y, model, review);
  return vector && pairOf(x, xKey, y, yKey, vector, model, review, name);
}

/**
 * The pair of a vector `vectorReaching` answered, as `scorePair` makes it. A vector under `review`
 * at the most its name can weigh (`MatchModel.mostAt`) is under it whatever the name's frequency
 * and count, so those need only be known for the rest.
 */
export function pairOf(
  x: Rec,
  xKey: string,
  y: Rec,
  yKey: string,
  vector: ReadonlyArray<string | null>,
  model: MatchModel,
  review: number,
  name: NameAdjust | undefined,
): ScoredPair | null {
  // The count is of x's name as written: it weighs the pair only when y writes it the same way
  // (`wei zhang` and `zhang wei` are one name, exact, but the count of one order says nothing of the other's).
  if (name?.nameCount !== undefined && x.name?.text !== y.name?.text) name = { nameFrequency: name.nameFrequency };
  // A common city or postcode agreeing weighs by its share of the store (`place-shares.ts`).
  const placeShare = model.placeShareOf(vector, x, y);
  const adjust = placeShare ? { ...name, placeShare } : name;
  if (model.weightOf(vector, adjust) < review) return null;
  const score = model.score(vector, adjust);
  // A birthday alone is no evidence of one person where the names are a family's: twins share it.
  const about = personEvidence(vector, model) && !familyPair(vector[nameIndexOf(model.comparisons)], x, y);
  return xKey < yKey ? { a: x, b: y, score, about } : { a: y, b: x, score, about };
}

/**
 * The two names are a family's, not one person's: different under one surname (`familyNames`), or
 * similar only for the surname, a Han name's given name romanized as another (`givenNameReadApart`:
 * 謝倩惠 and `Ming Yu Hsieh`, born one day at one address in Hong Kong 2026; until session 39 a link).
 */
function familyPair(level: string | null, x: Rec, y: Rec): boolean {
  if (level === 'different') return familyNames(x.name, y.name);
  return level === 'similar' && givenNameReadApart(x.name, y.name);
}
