/** CRM fields: Customer.crmContacts and what hangs off a contact. */
import type { Context } from '../src/context';
import { recordIdsIn } from '../src/loaders';
import type { CrmContact } from '../src/sources/types';
import type { CustomerParent } from './customer';
import { settleList } from './lists';

export const crmResolvers = {
  Customer: {
    crmContacts: async (c: CustomerParent, _: unknown, ctx: Context) =>
      settleList(await ctx.loaders.crmContact.loadMany(await recordIdsIn(ctx.loaders, c.id, 'crm'))),
  },
  CrmContact: {
    tierChanges: (contact: CrmContact, _: unknown, ctx: Context) => ctx.loaders.crmTierChanges.load(contact.id),
  },
};
