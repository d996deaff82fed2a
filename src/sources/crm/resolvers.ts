/** CRM fields: Customer.crmContacts (every CRM instance) and what hangs off a contact. */
import type { SourceName } from '../../vocabulary';
import { recordsOfKind } from '../fields';
import type { KindContext, SourceInstance } from '../kind';
import type { CrmConnector, CrmContact } from './types';

export function crmResolvers(instances: ReadonlyArray<SourceInstance<CrmConnector>>) {
  return {
    Customer: {
      crmContacts: (c: { id: string }, _: unknown, ctx: KindContext) =>
        recordsOfKind(ctx, c.id, instances, 'contactsByIds', (crm) => (ids, account) => crm.contactsByIds(ids, account)),
    },
    CrmContact: {
      tierChanges: (contact: CrmContact & { source: SourceName }, _: unknown, ctx: KindContext) => {
        const crm = ctx.loaders.connector<CrmConnector>(contact.source);
        return ctx.loaders.batch(contact.source, 'tierChangesByContactIds', (ids, account) => crm.tierChangesByContactIds(ids, account)).load(contact.id);
      },
    },
  };
}
