/** Order-system fields: shop accounts, orders across accounts, and the order summary. */
import type { Context } from '../src/context';
import { recordIdsIn } from '../src/loaders';
import { addMoney } from '../src/canonical';
import { SourceError } from '../src/errors';
import type { Order, OrderSummary } from '../src/sources/types';
import type { CustomerParent } from './customer';
import { boundedFirst } from './args';
import { flattenLists, newestFirst, settleList } from './lists';

/** Sums account summaries into the customer's. Mixed currencies cannot be summed honestly: that is an error, not a guess. */
export function combineSummaries(summaries: OrderSummary[]): Omit<OrderSummary, 'accountId'> | null {
  if (summaries.length === 0) return null;
  const currency = summaries[0].totalSpent.currency;
  if (summaries.some((s) => s.totalSpent.currency !== currency)) {
    throw new SourceError('orders', 'SOURCE_BAD_RESPONSE', 'orders: accounts report different currencies; no single total');
  }
  const times = (pick: (s: OrderSummary) => string | null) => summaries.map(pick).filter((t): t is string => t !== null).sort();
  const first = times((s) => s.firstOrderAt);
  const last = times((s) => s.lastOrderAt);
  return {
    orderCount: summaries.reduce((n, s) => n + s.orderCount, 0),
    totalSpent: addMoney(summaries.map((s) => s.totalSpent), currency),
    refundedAmount: addMoney(summaries.map((s) => s.refundedAmount), currency),
    firstOrderAt: first[0] ?? null,
    lastOrderAt: last[last.length - 1] ?? null,
  };
}

export const ordersResolvers = {
  Customer: {
    shopAccounts: async (c: CustomerParent, _: unknown, ctx: Context) =>
      settleList(await ctx.loaders.shopAccount.loadMany(await recordIdsIn(ctx.loaders, c.id, 'orders'))),

    orders: async (c: CustomerParent, args: { first?: number | null; since?: string | null }, ctx: Context) => {
      const first = boundedFirst(args.first, ctx.limits.maxFirst);
      const accountIds = await recordIdsIn(ctx.loaders, c.id, 'orders');
      const perAccount = await ctx.loaders.ordersByAccount({ since: args.since ?? null, limit: first }).loadMany(accountIds);
      return newestFirst<Order>(flattenLists(perAccount), (o) => o.placedAt).slice(0, first);
    },

    orderSummary: async (c: CustomerParent, _: unknown, ctx: Context) => {
      const summaries = settleList(await ctx.loaders.orderSummary.loadMany(await recordIdsIn(ctx.loaders, c.id, 'orders')));
      const failed = summaries.find((s): s is Error => s instanceof Error);
      if (failed) throw failed;
      const combined = combineSummaries(summaries as OrderSummary[]);
      // The customer rides along for OrderSummary's insight fields (resolvers/insights.ts).
      return combined && { ...combined, customerId: c.id };
    },
  },
  Order: {
    lines: (o: Order, _: unknown, ctx: Context) => ctx.loaders.orderLines.load(o.id),
    refunds: (o: Order, _: unknown, ctx: Context) => ctx.loaders.refunds.load(o.id),
  },
};
