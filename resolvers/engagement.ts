/** Customer.engagement: every engagement source's view of the customer's records there. */
import type { Context } from '../src/context';
import type { Engagement } from '../src/capabilities';
import { settleList } from '../src/sources/fields';
import type { CustomerParent } from './customer';

export const engagementResolvers = {
  Customer: {
    engagement: async (c: CustomerParent, _: unknown, ctx: Context) => {
      const keys = await ctx.loaders.recordIdsProviding(c.id, 'engagement');
      const perSource = await Promise.all(keys.map(({ source, ids }) => ctx.loaders.engagement(source).loadMany(ids)));
      return perSource.flatMap((list) => settleList<Engagement>(list as Array<Engagement | Error | null>));
    },
  },
};
