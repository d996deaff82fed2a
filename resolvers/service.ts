/** Service fields of Customer: tickets across every service source (helpdesks). */
import type { Context } from '../src/context';
import type { Ticket } from '../src/capabilities';
import { flattenLists, newestFirst } from '../src/sources/fields';
import type { CustomerParent } from './customer';
import { boundedFirst } from './args';

export const serviceResolvers = {
  Customer: {
    tickets: async (c: CustomerParent, args: { status?: string[] | null; first?: number | null }, ctx: Context) => {
      const first = boundedFirst(args.first, ctx.limits.maxFirst);
      const wanted = args.status?.length ? new Set(args.status) : null;
      const keys = await ctx.loaders.recordIdsProviding(c.id, 'service');
      const perSource = await Promise.all(keys.map(({ source, ids }) => ctx.loaders.tickets(source).loadMany(ids)));
      const all = perSource.flatMap((lists) => flattenLists(lists));
      const kept = wanted ? all.filter((t) => t instanceof Error || wanted.has(t.status)) : all;
      return newestFirst<Ticket>(kept, (t) => t.createdAt).slice(0, first);
    },
  },
  TicketStatus: { NEW: 'new', OPEN: 'open', PENDING: 'pending', HOLD: 'hold', SOLVED: 'solved', CLOSED: 'closed' },
};
