/**
 * The change feed (schema/feed.graphql): `customerChanged` takes its changes from the feed the
 * stream route bound to the subscription (src/feed/); each change's `customer` is loaded like any
 * query's, through the change's own per-request loaders, so the role's fields, masks and row scope apply.
 */
import type { Context } from '../src/context';
import { badUserInput } from '../src/errors';
import { feedOf, type CustomerChange, type CustomerChangeKind } from '../src/feed/binding';

const notOverHttp = () => badUserInput('subscriptions are served over Server-Sent Events at /graphql/stream (accept: text/event-stream)');

export const feedResolvers = {
  Subscription: {
    customerChanged: {
      subscribe: (_: unknown, args: { ids?: string[] | null; kinds?: CustomerChangeKind[] | null; after?: string | null }, ctx: Context) => {
        const feed = feedOf(ctx);
        if (!feed) throw notOverHttp();
        return feed.subscribe(args);
      },
      // Over POST /graphql a subscription runs as a query, with no change to resolve: say where the feed is.
      resolve: (change: CustomerChange | undefined) => {
        if (!change) throw notOverHttp();
        return change;
      },
    },
  },
  CustomerChange: {
    customer: (c: CustomerChange, _: unknown, { loaders }: Context) => loaders.customer.load(c.customerId),
  },
};
