/** WeChat official-account fields: Customer.scrmFollowers across every instance, and their coupons and group chats. */
import type { SourceName } from '../../vocabulary';
import { recordsOfKind } from '../fields';
import type { KindContext, SourceInstance } from '../kind';
import type { ScrmFollower, WechatConnector } from './types';

export function wechatResolvers(instances: ReadonlyArray<SourceInstance<WechatConnector>>) {
  type Follower = ScrmFollower & { source: SourceName };
  return {
    Customer: {
      scrmFollowers: (c: { id: string }, _: unknown, ctx: KindContext) =>
        recordsOfKind(ctx, c.id, instances, 'followersByOpenids', (wechat) => (ids, account) => wechat.followersByOpenids(ids, account)),
    },
    ScrmFollower: {
      coupons: (f: Follower, _: unknown, ctx: KindContext) => {
        const wechat = ctx.loaders.connector<WechatConnector>(f.source);
        return ctx.loaders.batch(f.source, 'couponsByOpenids', (ids, account) => wechat.couponsByOpenids(ids, account)).load(f.openid);
      },
      groups: (f: Follower, _: unknown, ctx: KindContext) => {
        const wechat = ctx.loaders.connector<WechatConnector>(f.source);
        return ctx.loaders.batch(f.source, 'groupsByOpenids', (ids, account) => wechat.groupsByOpenids(ids, account)).load(f.openid);
      },
    },
  };
}
