/** Helpdesk fields: requesters and tickets across them. */
import type { Context } from '../src/context';
import { recordIdsIn } from '../src/loaders';
import type { Ticket } from '../src/sources/types';
import type { CustomerParent } from './customer';
import { boundedFirst } from './args';
import { flattenLists, newestFirst, settleList } from './lists';

export const supportResolvers = {
  Customer: {
    supportRequesters: async (c: CustomerParent, _: unknown, ctx: Context) =>
      settleList(await ctx.loaders.supportRequester.loadMany(await recordIdsIn(ctx.loaders, c.id, 'support'))),

    tickets: async (c: CustomerParent, args: { status?: string[] | null; first?: number | null }, ctx: Context) => {
      const first = boundedFirst(args.first, ctx.limits.maxFirst);
      const wanted = args.status?.length ? new Set(args.status) : null;
      const all = flattenLists(await ctx.loaders.ticketsByRequester.loadMany(await recordIdsIn(ctx.loaders, c.id, 'support')));
      const kept = wanted ? all.filter((t) => t instanceof Error || wanted.has(t.status)) : all;
      return newestFirst<Ticket>(kept, (t) => t.createdAt).slice(0, first);
    },
  },
  TicketStatus: { NEW: 'new', OPEN: 'open', PENDING: 'pending', HOLD: 'hold', SOLVED: 'solved', CLOSED: 'closed' },
};
