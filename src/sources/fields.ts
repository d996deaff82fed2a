/** Helpers for the fields kinds and the core resolve from source records: how partial failures answer. */
import { SourceRowError } from '../errors';
import type { Connector, Slot, SourceAccount, SourceName } from '../vocabulary';
import type { KindContext, SourceInstance } from './kind';

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
  return [...items].sort((a, b) => compareNewest(a, b, at));
}

// The work is in module-level functions rather than closures made per call: V8 holds a
// function's optimized code only weakly while no closure of it is alive, so a per-call closure
// loses it at any major GC between requests; module-level functions keep theirs.

function compareNewest<T>(a: T | Error, b: T | Error, at: (t: T) => string): number {
  const x = a instanceof Error ? '' : at(a);
  const y = b instanceof Error ? '' : at(b);
  return x < y ? 1 : x > y ? -1 : 0;
}

/**
 * A Customer field listing one kind's records across every instance of the kind: one OneID
 * round, then one batched load per instance (all in one tick, so every customer of a query
 * level shares one call per instance), each record stamped with the instance it came from.
 * A failed call fails the field; a malformed record stays in place as an Error.
 */
export async function recordsOfKind<C extends Connector, R extends object>(
  ctx: KindContext,
  customerId: string,
  instances: ReadonlyArray<SourceInstance<C>>,
  operation: string,
  call: (connector: C) => (ids: readonly string[], account: SourceAccount) => Promise<Array<Slot<R> | null>>,
): Promise<Array<(R & { source: SourceName }) | Error>> {
  const lists = await ctx.loaders.together(
    `records:${operation}:${instances.map((i) => i.name).join(',')}`,
    Promise.all(instances.map((inst) => recordsOfInstance(ctx, customerId, inst, operation, call))),
  );
  return lists.flat();
}

/** One instance's records for `recordsOfKind`, each stamped with the instance. */
async function recordsOfInstance<C extends Connector, R extends object>(
  ctx: KindContext,
  customerId: string,
  inst: SourceInstance<C>,
  operation: string,
  call: (connector: C) => (ids: readonly string[], account: SourceAccount) => Promise<Array<Slot<R> | null>>,
): Promise<Array<(R & { source: SourceName }) | Error>> {
  const ids = await ctx.loaders.recordIds(customerId, inst.name);
  const loaded = await ctx.loaders.batch<Slot<R> | null>(inst.name, operation, call(ctx.loaders.connector<C>(inst.name))).loadMany(ids);
  const records: Array<(R & { source: SourceName }) | Error> = [];
  for (const r of settleList(loaded)) records.push(r instanceof Error ? r : { ...(r as R), source: inst.name });
  return records;
}
