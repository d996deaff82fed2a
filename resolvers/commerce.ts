/** Commerce fields of Customer: orders and the order summary over every commerce source, and what hangs off an order. */
import type { Context } from '../src/context';
import { addMoney } from '../src/canonical';
import { SourceError } from '../src/errors';
import type { Order, OrderSummary } from '../src/capabilities';
import { flattenLists, newestFirst, settleList } from '../src/sources/fields';
import type { CustomerParent } from './customer';
import { boundedFirst } from './args';

/** Sums account summaries into the customer's. Mixed currencies cannot be summed honestly: that is an error, not a guess. */
export function combineSummaries(summaries: OrderSummary[]): Omit<OrderSummary, 'accountId'> | null {
  if (summaries.length === 0) return null;
  const currency = summaries[0].totalSpent.currency;
  if (summaries.length === 1) {
    // The usual customer, one account: its times as they are (what the lists below would pick), no work arrays per customer of a list.
    const s = summaries[0];
    return {
      orderCount: s.orderCount,
      totalSpent: addMoney([s.totalSpent], currency),
      refundedAmount: addMoney([s.refundedAmount], currency),
      firstOrderAt: s.firstOrderAt,
      lastOrderAt: s.lastOrderAt,
    };
  }
  if (summaries.some((s) => s.totalSpent.currency !== currency)) {
    throw new SourceError('commerce', 'SOURCE_BAD_RESPONSE', 'commerce: the customer has orders in more than one currency; no single total');
  }
  const times = (pick: (s: OrderSummary) => string | null) =>
    summaries
      .map(pick)
      .filter((t): t is string => t !== null)
      .sort();
  const first = times((s) => s.firstOrderAt);
  const last = times((s) => s.lastOrderAt);
  return {
    orderCount: summaries.reduce((n, s) => n + s.orderCount, 0),
    totalSpent: addMoney(
      summaries.map((s) => s.totalSpent),
      currency,
    ),
    refundedAmount: addMoney(
      summaries.map((s) => s.refundedAmount),
      currency,
    ),
    firstOrderAt: first[0] ?? null,
    lastOrderAt: last[last.length - 1] ?? null,
  };
}

export const commerceResolvers = {
  Customer: {
    orders: async (c: CustomerParent, args: { first?: number | null; since?: string | null }, ctx: Context) => {
      const first = boundedFirst(args.first, ctx.limits.maxFirst);
      const query = { since: args.since ?? null, limit: first };
      const loads = Promise.all((await ctx.loaders.recordIdsProviding(c.id, 'commerce')).map(({ source, ids }) => ctx.loaders.orders(source, query).loadMany(ids)));
      // Every customer's orders settle together, so their lines and refunds batch into one call per source.
      const perSource = await ctx.loaders.together(`orders:${JSON.stringify(query)}`, loads);
      return newestFirst<Order>(
        perSource.flatMap((lists) => flattenLists(lists)),
        (o) => o.placedAt,
      ).slice(0, first);
    },

    orderSummary: async (c: CustomerParent, _: unknown, ctx: Context) => {
      const perSource = await Promise.all((await ctx.loaders.recordIdsProviding(c.id, 'commerce')).map(({ source, ids }) => ctx.loaders.orderSummaries(source).loadMany(ids)));
      const summaries = perSource.flatMap((list) => settleList(list));
      const failed = summaries.find((s): s is Error => s instanceof Error);
      if (failed) throw failed;
      const combined = combineSummaries(summaries as OrderSummary[]);
      // The customer rides along for OrderSummary's insight fields (resolvers/insights.ts); the summary is this call's own, no copy.
      if (!combined) return null;
      const out = combined as typeof combined & { customerId: string };
      out.customerId = c.id;
      return out;
    },
  },
  Order: {
    lines: (o: Order, _: unknown, ctx: Context) => ctx.loaders.orderLines(o.source).load(o.id),
    refunds: (o: Order, _: unknown, ctx: Context) => ctx.loaders.refunds(o.source).load(o.id),
  },
};
