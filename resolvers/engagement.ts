/** Customer.engagement: every engagement source's view of the customer's records there. */
import type { Context } from '../src/context';
import type { Engagement } from '../src/capabilities';
import { settleList } from '../src/sources/fields';
import type { CustomerParent } from './customer';

export const engagementResolvers = {
  Customer: {
    engagement: async (c: CustomerParent, _: unknown, ctx: Context) => {
      const linked = await ctx.loaders.sourceRecords.load(c.id);
      const perSource = await Promise.all(
        ctx.loaders.registry.providing('engagement').map(({ name }) => {
          const ids = linked.filter((r) => r.source === name).map((r) => r.recordId);
          return ids.length ? ctx.loaders.engagement(name).loadMany(ids) : Promise.resolve([]);
        }),
      );
      return perSource.flatMap((list) => settleList<Engagement>(list as Array<Engagement | Error | null>));
    },
  },
};
