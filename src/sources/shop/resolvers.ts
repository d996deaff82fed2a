/** Shop fields: Customer.shopAccounts across every shop instance. Orders are the commerce capability's (schema/commerce.graphql). */
import { recordsOfKind } from '../fields';
import type { KindContext, SourceInstance } from '../kind';
import type { ShopConnector } from './types';

export function shopResolvers(instances: ReadonlyArray<SourceInstance<ShopConnector>>) {
  return {
    Customer: {
      shopAccounts: (c: { id: string }, _: unknown, ctx: KindContext) =>
        recordsOfKind(ctx, c.id, instances, 'accountsByIds', (shop) => (ids, account) => shop.accountsByIds(ids, account)),
    },
  };
}
