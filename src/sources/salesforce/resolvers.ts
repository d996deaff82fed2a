/** Salesforce fields: Customer.salesforceContacts across every salesforce instance. */
import { recordsOfKind } from '../fields';
import type { KindContext, SourceInstance } from '../kind';
import type { SalesforceConnector } from './types';

export function salesforceResolvers(instances: ReadonlyArray<SourceInstance<SalesforceConnector>>) {
  return {
    Customer: {
      salesforceContacts: (c: { id: string }, _: unknown, ctx: KindContext) =>
        recordsOfKind(ctx, c.id, instances, 'contactsByIds', (sf) => (ids, account) => sf.contactsByIds(ids, account)),
    },
  };
}
