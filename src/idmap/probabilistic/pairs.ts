/**
 * One compared pair, as both ways the tier runs build it: per batch (`tier.ts`) and, on a first
 * comparison, per block (`first-run.ts`). One scoring function, so the two cannot drift apart.
 */
import { compareRecords } from './compare';
import type { MatchFeatures } from './features';
import type { MatchModel, PairScore } from './model';

export type Rec = MatchFeatures & { customerId: string | null; scored: boolean };

export interface ScoredPair {
  a: Rec;
  b: Rec;
  score: PairScore;
  /** The name or the birthday agrees: without that, a pair is at most a review candidate. */
  about: boolean;
}

/** Levels that say "this is the same person" by themselves, not through an identifier. */
const AGREEING: Readonly<Record<string, readonly string[]>> = { name: ['exact', 'alias', 'close'], birthday: ['exact', 'swapped'] };

function personEvidence(vector: ReadonlyArray<string | null>, model: MatchModel): boolean {
  return model.comparisons.some((c, i) => vector[i] != null && (AGREEING[c.name] ?? []).includes(vector[i] as string));
}

/**
 * Compares `x` (the record whose batch compares the pair, whose name's frequency counts) with
 * `y`; the pair, `a` before `b` in key order, when it weighs at least `review`, else null.
 */
export function scorePair(x: Rec, xKey: string, y: Rec, yKey: string, model: MatchModel, review: number, nameFrequency: number | undefined): ScoredPair | null {
  const vector = compareRecords(x, y, model.comparisons);
  const score = model.score(vector, { nameFrequency });
  if (score.weight < review) return null;
  const about = personEvidence(vector, model);
  return xKey < yKey ? { a: x, b: y, score, about } : { a: y, b: x, score, about };
}
