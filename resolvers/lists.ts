import { SourceRowError } from '../src/errors';

/**
 * How a list field gathered from a source answers when parts of it fail.
 * A failed call (source down, timed out) fails the field once: null plus one coded error.
 * A malformed record (SourceRowError) stays in place as an Error, which graphql turns into a
 * null item with its own coded error; the other items answer normally. Records the source
 * no longer has (null) are left out.
 */
export function settleList<T>(results: Array<T | null | Error>): Array<T | Error> {
  const failedCall = results.find((r): r is Error => r instanceof Error && !(r instanceof SourceRowError));
  if (failedCall) throw failedCall;
  return results.filter((r): r is T | Error => r !== null);
}

/** Flattens per-key lists (e.g. orders of each account); a failed call fails the field. */
export function flattenLists<T>(results: Array<T[] | Error>): T[] {
  const failed = results.find((r): r is Error => r instanceof Error);
  if (failed) throw failed;
  return (results as T[][]).flat();
}

/** Sorts newest first by an instant field; error slots sink to the end. */
export function newestFirst<T>(items: Array<T | Error>, at: (t: T) => string): Array<T | Error> {
  const rank = (x: T | Error) => (x instanceof Error ? '' : at(x));
  return [...items].sort((a, b) => (rank(a) < rank(b) ? 1 : rank(a) > rank(b) ? -1 : 0));
}
