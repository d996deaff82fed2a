/**
 * How common an exact name is among the people who could carry it, from how common its parts are:
 * the share of records carrying its surname times the share carrying its given name (a Latin
 * name's words, a Han name's surname and given name). An exact name weighs by its own count among
 * the store's records (`model.ts`), and a name only the pair carries weighs as the rarest; but
 * two records of `Winnie Lam` in one Hong Kong district are not two of a rare name: `Winnie` and
 * `Lam` are common there, and a store that holds a few thousand customers has met few of the
 * Winnie Lams that live there. The product is what the name's share would be if given names and
 * surnames were drawn apart, and u is at least that (session 39, docs/identity-history.md).
 */
import { splitHanName } from './names';

/** A name's parts as counted: a Latin name's distinct words, a Han name's surname and given name; none for other scripts. */
export function namePartsOf(text: string): string[] {
  if (/^[a-z]+(?: [a-z]+)+$/.test(text)) return [...new Set(text.split(' '))];
  if (/^\p{Script=Han}{2,}$/u.test(text)) {
    const { surname, given } = splitHanName(text);
    // A given name is counted apart from a surname written alike (王林's 林 is not 林's).
    return given ? [surname, `·${given}`] : [];
  }
  return [];
}

/** Records carrying each part (`namePartsOf`), counted over the store's names, and the records counted. */
export interface NamePartCounts {
  records: number;
  parts: ReadonlyMap<string, number>;
}

/**
 * The share of records a name would be carried by if its parts were drawn apart: the product of
 * its parts' shares. Undefined for a name of fewer than two parts, or when none were counted.
 */
export function namePartsShare(text: string, counts: NamePartCounts | null | undefined): number | undefined {
  if (!counts || counts.records <= 0) return undefined;
  const parts = namePartsOf(text);
  if (parts.length < 2) return undefined;
  let share = 1;
  for (const p of parts) share *= (counts.parts.get(p) ?? 0) / counts.records;
  return share > 0 ? share : undefined;
}

/** Adds `n` records carrying the name `text` to `into`. */
export function countNameParts(into: Map<string, number>, text: string, n: number): void {
  for (const p of namePartsOf(text)) into.set(p, (into.get(p) ?? 0) + n);
}
