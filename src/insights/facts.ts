/**
 * Gathers the facts insights are computed from through the request's loaders, and computes
 * them with the pure modules beside this one. Every load for one customer is issued in one
 * tick after the OneID round, so all customers of a level share one call per source operation;
 * the order summary loader is the same one `orderSummary` uses, so they share its call too.
 * A failure of a source a fact needs fails the fact with that source's error.
 */
import type { Loaders } from '../loaders';
import type { CategoryStat, OrderSummary, Ticket } from '../capabilities';
import type { GoldenField, GoldenValue } from '../golden/fields';
import { goldenDecision } from '../golden/records';
import type { InsightRules, TagRule } from './rules';
import { combineCategories, customerOrders, isIncomparableMoney, type CustomerOrders } from './summary';
import { rfmOf, type Rfm } from './rfm';
import { evaluateTags, needsOf, tagCanBe, type AccountFact, type Tag, type TagFacts, type TagOrders } from './tags';
import { isSourceError, type SourceError } from '../errors';
import { lifecycleOf, type Lifecycle } from './lifecycle';

/** Values of a loadMany, or its first failure thrown; nulls (unknown keys) dropped. */
function settled<T>(results: Array<T | null | Error>): T[] {
  const failed = results.find((r): r is Error => r instanceof Error);
  if (failed) throw failed;
  return results.filter((r): r is T => r !== null) as T[];
}

/**
 * One load per source providing `capability`, over the customer's records there, all issued in
 * the same tick after the OneID round; sources where the customer has no record are not asked.
 */
async function acrossSources<T>(
  loaders: Loaders,
  customerId: string,
  capability: 'commerce' | 'service' | 'profile',
  load: (source: string, ids: string[]) => Promise<Array<T | null | Error>>,
): Promise<Array<{ source: string; values: T[] }>> {
  const keys = await loaders.recordIdsProviding(customerId, capability);
  return Promise.all(keys.map(async ({ source, ids }) => ({ source, values: settled(await load(source, ids)) })));
}

/** The customer's order figures over every commerce source (their summaries summed; one currency only). */
export async function ordersOf(loaders: Loaders, customerId: string): Promise<CustomerOrders | null> {
  const per = await acrossSources<OrderSummary>(loaders, customerId, 'commerce', (s, ids) => loaders.orderSummaries(s).loadMany(ids));
  return customerOrders(
    per.flatMap((p) => p.values),
    loaders.orderWindowDays,
  );
}

export async function categoriesOf(loaders: Loaders, customerId: string): Promise<CategoryStat[]> {
  const per = await acrossSources(loaders, customerId, 'commerce', (s, ids) => loaders.categoryStats(s).loadMany(ids));
  return combineCategories(per.flatMap((p) => p.values).map((l) => settled<CategoryStat>(l)));
}

/** The customer's commerce accounts with their registration channel (what their source's profile says). */
async function accountsOf(loaders: Loaders, customerId: string): Promise<AccountFact[]> {
  const commerce = new Set(loaders.registry.providing('commerce').map((c) => c.name));
  const per = await acrossSources(loaders, customerId, 'profile', (s, ids) => (commerce.has(s) ? loaders.profile(s).loadMany(ids) : Promise.resolve([])));
  return per.flatMap(({ source, values }) =>
    values.flatMap((v) => (typeof v.values.registrationChannel === 'string' ? [{ source, id: v.recordId, channel: v.values.registrationChannel }] : [])),
  );
}

async function ticketsOf(loaders: Loaders, customerId: string): Promise<Ticket[]> {
  const per = await acrossSources(loaders, customerId, 'service', (s, ids) => loaders.tickets(s).loadMany(ids));
  return per.flatMap((p) => p.values).flatMap((l) => settled<Ticket>(l));
}

export async function rfmFor(loaders: Loaders, rules: InsightRules, customerId: string): Promise<Rfm | null> {
  // Both start in this tick. A customer without a counted order has no RFM whatever the base is, so
  // a base that cannot be read (a commerce source down) fails only the customers it would score.
  const boundaries = loaders.rfmBoundaries.load('base');
  boundaries.catch(() => undefined);
  const orders = await ordersOf(loaders, customerId);
  if (!orders || orders.orderCount === 0 || !orders.lastOrderAt) return null;
  return rfmOf(orders, await boundaries, rules.lifecycle.rfm.segments, loaders.now);
}

async function goldenValues(loaders: Loaders, rules: InsightRules, customerId: string, fields: GoldenField[]) {
  const decisions = await Promise.all(fields.map((f) => goldenDecision(loaders, rules.survivorship[f], customerId)));
  return Object.fromEntries(decisions.map((d) => [d.field, d.chosen?.value ?? null])) as Partial<Record<GoldenField, GoldenValue | null>>;
}

/** A customer's tags; the rules a fact that could not be read left undecided, and that fact's error (null when none). */
export interface CustomerTags {
  tags: Tag[];
  undecided: TagRule[];
  error: SourceError | null;
}

/**
 * The RFM segment as a tag fact: a customer whose money the base cannot compare is in no segment
 * (null); a base that cannot be read (a commerce source down at the first computation) leaves it
 * unknown (its error), so rules on it are undecided and the customer's other tags stand.
 */
function segmentFact(e: unknown): Error | null {
  if (isIncomparableMoney(e)) return null;
  if (isSourceError(e)) return e;
  throw e;
}

/**
 * The customer's tags. With `only` (a BI filter's tag names), only the rules that can give one of
 * those names are evaluated, so only their facts are read: the tags it answers are the same as the
 * full evaluation's among those names, and a source only other rules read is not asked.
 */
export async function tagsFor(
  loaders: Loaders,
  rules: InsightRules,
  customerId: string,
  only?: readonly string[],
  known?: { orders: TagOrders | null },
): Promise<CustomerTags> {
  const tagRules = only ? rules.tags.filter((r) => only.some((name) => tagCanBe(r.tag, name))) : rules.tags;
  const needs = needsOf(tagRules);
  const skip = Promise.resolve(undefined);
  // Every needed fact starts loading now, in this tick; none waits for another. `known.orders`: read
  // already (a BI list's whole-base order facts), for every customer of a level at once.
  const [orders, categories, golden, accounts, tickets, rfm] = await Promise.all([
    !needs.orders ? skip : known ? Promise.resolve(known.orders) : ordersOf(loaders, customerId),
    needs.categories ? categoriesOf(loaders, customerId) : skip,
    needs.golden.length ? goldenValues(loaders, rules, customerId, needs.golden) : skip,
    needs.accounts ? accountsOf(loaders, customerId) : skip,
    needs.tickets ? ticketsOf(loaders, customerId) : skip,
    // A customer whose money the base cannot compare is in no segment: it meets no rfmSegment rule,
    // as a lifetime value in another currency meets no lifetimeValue rule; its other tags stand.
    needs.rfm ? rfmFor(loaders, rules, customerId).catch(segmentFact) : skip,
  ]);
  const segment = rfm instanceof Error ? rfm : (rfm?.segment ?? null);
  const facts: TagFacts = { now: loaders.now, orders, categories, golden, accounts, tickets, rfmSegment: needs.rfm ? segment : undefined };
  const undecided: TagRule[] = [];
  const tags = evaluateTags(tagRules, facts, undecided);
  return { tags, undecided, error: undecided.length ? (segment as SourceError) : null };
}

/**
 * The lifecycle stages of many customers (BI verification), each as `lifecycleFor` answers it (or
 * its error): the orders of all first, in one tick, then the registration date only of those
 * without a counted order, in one tick (it decides only theirs). A customer's own lifecycle field
 * loads both at once instead (one round trip less); a list of thousands reads a sign-up source only
 * for the customers it can tell something of.
 */
export async function lifecyclesFor(loaders: Loaders, rules: InsightRules, customerIds: readonly string[]): Promise<Array<Lifecycle | Error>> {
  const orders = await Promise.all(customerIds.map((id) => ordersOf(loaders, id).catch((e: Error) => e)));
  return Promise.all(
    customerIds.map(async (id, i) => {
      const o = orders[i];
      if (o instanceof Error) return o;
      // As lifecycleOf reads it: with a counted order (and its times) the registration date is not looked at.
      if (o !== null && o.orderCount > 0 && o.lastOrderAt && o.firstOrderAt) return lifecycleOf(rules.lifecycle.stages, o, null, loaders.now);
      try {
        const d = await goldenDecision(loaders, rules.survivorship.registeredAt, id);
        return lifecycleOf(rules.lifecycle.stages, o, (d.chosen?.value as string | undefined) ?? null, loaders.now);
      } catch (e) {
        return e as Error;
      }
    }),
  );
}

export async function lifecycleFor(loaders: Loaders, rules: InsightRules, customerId: string): Promise<Lifecycle> {
  // Registration matters only without orders; it loads alongside (same tick) and its failure counts only then.
  const [orders, registered] = await Promise.all([
    ordersOf(loaders, customerId),
    goldenDecision(loaders, rules.survivorship.registeredAt, customerId).then(
      (d) => ({ value: (d.chosen?.value as string | undefined) ?? null, error: null as Error | null }),
      (error: Error) => ({ value: null, error }),
    ),
  ]);
  const ordered = orders !== null && orders.orderCount > 0;
  if (!ordered && registered.error) throw registered.error;
  return lifecycleOf(rules.lifecycle.stages, orders, registered.value, loaders.now);
}
