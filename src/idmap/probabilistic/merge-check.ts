/**
 * What the records a tier link brings together say against it. The tier scores two records and
 * links their customers, so every other record of one customer meets every record of the other
 * without having been compared with it (a transitive merge). Before a link merges two customers,
 * each dated and named record of one is compared with each of the other's (at most
 * `MAX_RECORDS` a customer: customers are small, and the check stays linear in the links), and
 * two that differ in both name and birthday send it to review: one person's records agree on
 * one of the two at least; two people's, on neither.
 *
 * Only that pair of differences. On the held-out and generated worlds (docs/identity-history.md,
 * session 40) a name the tier reads as `different` is as often one person's two writings (an
 * English given name on one record, the Chinese one on the other: `Mary Lau` and `LIU Zhenhong`,
 * `Raymond KUO` and `KUO Yi-en`), a birthday `different` as often one person's year typed one
 * off across a decade (`1989-10-21`, `1990-10-21`), a family's or a household's names as often
 * one person's read apart: each alone stopped 2–67 right merges a world for 0–3 wrong ones.
 */
import type { MatchFeatures } from './features';
import { compareBirthdays, compareRecordNames } from './compare';

/** Records of a customer compared before a merge, at most (those carrying a name and a birthday). */
export const MAX_RECORDS = 24;

/** Two records, one of each customer, that cannot be one person's (`source:recordId` each). */
export interface MergeContradiction {
  differ: ['name', 'birthday'];
  records: [string, string];
}

const label = (r: { source: string; recordId: string }) => `${r.source}:${r.recordId}`;

/** Whether a record can take part in the check: it has both a name and a birthday. */
export const comparedBeforeMerge = (r: MatchFeatures) => Boolean(r.name && r.birth);

/**
 * The first record of `x` and record of `y` whose names and birthdays both differ, or null. The
 * link's own pair is among them only if it differs so, which a linked pair never does (a link
 * needs its name or its birthday in agreement).
 */
export function mergeContradiction(x: readonly MatchFeatures[], y: readonly MatchFeatures[]): MergeContradiction | null {
  for (const a of x) {
    if (!comparedBeforeMerge(a)) continue;
    for (const b of y) {
      if (!comparedBeforeMerge(b)) continue;
      // The birthday first: cheap, and it rules out most pairs before their names are read.
      if (compareBirthdays(a.birth, b.birth) !== 'different') continue;
      if (compareRecordNames(a, b) === 'different') return { differ: ['name', 'birthday'], records: [label(a), label(b)] };
    }
  }
  return null;
}
