/** Insights on Customer (rfm, tags, lifecycle) and the extended OrderSummary: facts via loaders, logic in src/insights. */
import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import type { Context } from '../src/context';
import { undecidedTagRules } from '../src/errors';
import { insightRulesFor } from '../src/bi/list';
import { categoriesOf, lifecycleFor, ordersOf, rfmFor, tagsFor } from '../src/insights/facts';
import { averageOrderValue, ordersWithin, refundRate } from '../src/insights/summary';
import type { Money } from '../src/vocabulary';
import type { CustomerParent } from './customer';

const rulesOf = (ctx: Context) => ctx.insights.rules;
/** The rules as the caller's role is answered: tags only of rules reading what it reads (src/bi/list.ts). */
const tagRulesOf = (ctx: Context) => insightRulesFor(ctx);

/** What resolvers/orders.ts answers for Customer.orderSummary: the combined summary plus its customer. */
interface SummaryParent {
  customerId: string;
  totalSpent: Money;
}

const orders = (s: SummaryParent, ctx: Context) => ordersOf(ctx.loaders, s.customerId);
const within = (days: number) => async (s: SummaryParent, _: unknown, ctx: Context) => {
  const o = await orders(s, ctx);
  return o ? ordersWithin(o, days) : 0;
};

export const insightsResolvers = {
  Customer: {
    rfm: async (c: CustomerParent, _: unknown, ctx: Context) => {
      const r = await rfmFor(ctx.loaders, rulesOf(ctx), c.id);
      return r && { ...r, score: `${r.r}${r.f}${r.m}` };
    },
    tags: async (c: CustomerParent, _: unknown, ctx: Context, info: GraphQLResolveInfo) => {
      const { tags, undecided, error } = await tagsFor(ctx.loaders, tagRulesOf(ctx), c.id);
      if (error)
        ctx.notices.push(
          undecidedTagRules(
            undecided.map((r) => r.id),
            error,
            responsePathAsArray(info.path),
          ),
        );
      return tags;
    },
    lifecycle: (c: CustomerParent, _: unknown, ctx: Context) => lifecycleFor(ctx.loaders, rulesOf(ctx), c.id),
  },
  OrderSummary: {
    lifetimeValue: (s: SummaryParent) => s.totalSpent,
    averageOrderValue: async (s: SummaryParent, _: unknown, ctx: Context) => {
      const o = await orders(s, ctx);
      return o && averageOrderValue(o);
    },
    ordersLast30Days: within(30),
    ordersLast90Days: within(90),
    ordersLast365Days: within(365),
    favouriteCategories: async (s: SummaryParent, _: unknown, ctx: Context) =>
      (await categoriesOf(ctx.loaders, s.customerId)).slice(0, rulesOf(ctx).lifecycle.orderSummary.favouriteCategories),
    refundRate: async (s: SummaryParent, _: unknown, ctx: Context) => {
      const o = await orders(s, ctx);
      return o && refundRate(o);
    },
  },
};
