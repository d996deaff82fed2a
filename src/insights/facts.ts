/**
 * Gathers the facts insights are computed from through the request's loaders, and computes
 * them with the pure modules beside this one. Every load for one customer is issued in one
 * tick after the OneID round, so all customers of a level share one call per source operation;
 * the order summary loader is the same one `orderSummary` uses, so they share its call too.
 * A failure of a source a fact needs fails the fact with that source's error.
 */
import type { Loaders } from '../loaders';
import type { CategoryStat, OrderSummary, ShopAccount, SourceName, Ticket } from '../sources/types';
import type { GoldenField, GoldenValue } from '../golden/fields';
import { goldenDecision } from '../golden/records';
import type { InsightRules } from './rules';
import { combineCategories, customerOrders, type CustomerOrders } from './summary';
import { rfmOf, type Rfm } from './rfm';
import { evaluateTags, needsOf, type Tag, type TagFacts } from './tags';
import { lifecycleOf, type Lifecycle } from './lifecycle';

/** Values of a loadMany, or its first failure thrown; nulls (unknown keys) dropped. */
function settled<T>(results: Array<T | null | Error>): T[] {
  const failed = results.find((r): r is Error => r instanceof Error);
  if (failed) throw failed;
  return results.filter((r): r is T => r !== null) as T[];
}

async function keysIn(loaders: Loaders, customerId: string, source: SourceName): Promise<string[]> {
  return (await loaders.sourceRecords.load(customerId)).filter((r) => r.source === source).map((r) => r.recordId);
}

export async function ordersOf(loaders: Loaders, customerId: string): Promise<CustomerOrders | null> {
  const summaries = settled<OrderSummary>(await loaders.orderSummary.loadMany(await keysIn(loaders, customerId, 'orders')));
  return customerOrders(summaries, loaders.orderWindowDays);
}

export async function categoriesOf(loaders: Loaders, customerId: string): Promise<CategoryStat[]> {
  const lists = settled(await loaders.categoryStats.loadMany(await keysIn(loaders, customerId, 'orders')));
  return combineCategories(lists.map((l) => settled<CategoryStat>(l)));
}

async function accountsOf(loaders: Loaders, customerId: string): Promise<ShopAccount[]> {
  return settled(await loaders.shopAccount.loadMany(await keysIn(loaders, customerId, 'orders')));
}

async function ticketsOf(loaders: Loaders, customerId: string): Promise<Ticket[]> {
  return settled(await loaders.ticketsByRequester.loadMany(await keysIn(loaders, customerId, 'support'))).flatMap((l) => settled<Ticket>(l));
}

export async function rfmFor(loaders: Loaders, rules: InsightRules, customerId: string): Promise<Rfm | null> {
  const [orders, boundaries] = await Promise.all([ordersOf(loaders, customerId), loaders.rfmBoundaries.load('base')]);
  return rfmOf(orders, boundaries, rules.lifecycle.rfm.segments, loaders.now);
}

async function goldenValues(loaders: Loaders, rules: InsightRules, customerId: string, fields: GoldenField[]) {
  const decisions = await Promise.all(fields.map((f) => goldenDecision(loaders, rules.survivorship[f], customerId)));
  return Object.fromEntries(decisions.map((d) => [d.field, d.chosen?.value ?? null])) as Partial<Record<GoldenField, GoldenValue | null>>;
}

export async function tagsFor(loaders: Loaders, rules: InsightRules, customerId: string): Promise<Tag[]> {
  const needs = needsOf(rules.tags);
  const skip = Promise.resolve(undefined);
  // Every needed fact starts loading now, in this tick; none waits for another.
  const [orders, categories, golden, accounts, tickets, rfm] = await Promise.all([
    needs.orders ? ordersOf(loaders, customerId) : skip,
    needs.categories ? categoriesOf(loaders, customerId) : skip,
    needs.golden.length ? goldenValues(loaders, rules, customerId, needs.golden) : skip,
    needs.accounts ? accountsOf(loaders, customerId) : skip,
    needs.tickets ? ticketsOf(loaders, customerId) : skip,
    needs.rfm ? rfmFor(loaders, rules, customerId) : skip,
  ]);
  const facts: TagFacts = { now: loaders.now, orders, categories, golden, accounts, tickets, rfmSegment: needs.rfm ? (rfm?.segment ?? null) : undefined };
  return evaluateTags(rules.tags, facts);
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
