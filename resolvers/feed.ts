/**
 * The change feed (schema/feed.graphql): `customerChanged` takes its changes from the feed the
 * stream route bound to the subscription (src/feed/); each change's `customer` is loaded like any
 * query's, through the change's own per-request loaders, so the role's fields, masks and row scope apply.
 */
import type { Context } from '../src/context';
import { badUserInput } from '../src/errors';
import { feedOf, type CustomerChange, type CustomerChangeKind } from '../src/feed/binding';

export const feedResolvers = {
  Subscription: {
    customerChanged: {
      subscribe: (_: unknown, args: { ids?: string[] | null; kinds?: CustomerChangeKind[] | null }, ctx: Context) => {
        const feed = feedOf(ctx);
        if (!feed) throw badUserInput('subscriptions are served over Server-Sent Events at /graphql/stream');
        return feed.subscribe(args);
      },
      resolve: (delivery: CustomerChange) => delivery,
    },
  },
  CustomerChange: {
    customer: (c: CustomerChange, _: unknown, { loaders }: Context) => loaders.customer.load(c.customerId),
  },
};
