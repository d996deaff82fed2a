/** SCRM fields: WeChat followers and their coupons and group chats. */
import type { Context } from '../src/context';
import { recordIdsIn } from '../src/loaders';
import type { ScrmFollower } from '../src/sources/types';
import type { CustomerParent } from './customer';
import { settleList } from './lists';

export const scrmResolvers = {
  Customer: {
    scrmFollowers: async (c: CustomerParent, _: unknown, ctx: Context) =>
      settleList(await ctx.loaders.scrmFollower.loadMany(await recordIdsIn(ctx.loaders, c.id, 'scrm'))),
  },
  ScrmFollower: {
    coupons: (f: ScrmFollower, _: unknown, ctx: Context) => ctx.loaders.coupons.load(f.openid),
    groups: (f: ScrmFollower, _: unknown, ctx: Context) => ctx.loaders.groups.load(f.openid),
  },
};
