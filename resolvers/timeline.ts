/** Customer.timeline: one cursor-paginated stream of every source's events (src/timeline). */
import type { Context } from '../src/context';
import { badUserInput } from '../src/errors';
import type { EventKind, SourceEvent, SourceName } from '../src/vocabulary';
import { decodeCursor, encodeCursor } from '../src/timeline/cursor';
import type { TimelineGap } from '../src/timeline/merge';
import { MAX_TIMELINE_PAGE, timelinePage } from '../src/timeline/page';
import type { CustomerParent } from './customer';
import { boundedFirst } from './args';

interface TimelineArgs {
  first?: number | null;
  after?: string | null;
  since?: string | null;
  kinds?: EventKind[] | null;
}

export const timelineResolvers = {
  Customer: {
    timeline: async (c: CustomerParent, args: TimelineArgs, ctx: Context) => {
      const first = boundedFirst(args.first, Math.min(ctx.limits.maxFirst, MAX_TIMELINE_PAGE));
      const after = args.after == null ? null : decodeCursor(args.after, ctx.timelineCursorKey);
      if (args.after != null && !after) throw badUserInput('after is not a timeline cursor (use an endCursor or edge cursor from an earlier page)', { argument: 'after' });
      const page = await timelinePage(ctx.loaders, c.id, { first, after, since: args.since ?? null, kinds: args.kinds ?? null });
      const edges = page.events.map((e, i) => ({ cursor: encodeCursor(page.cursors[i], ctx.timelineCursorKey), node: e }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.length ? edges[edges.length - 1].cursor : null }, gaps: page.gaps };
    },
  },
  TimelineEvent: {
    id: (e: SourceEvent & { source: SourceName }) => `${e.source}:${e.kind}:${e.id}`,
  },
  TimelineGap: {
    // Null in data, the source's coded error in `errors` (see the SDL).
    error: (g: TimelineGap & { source: SourceName }) => g.error,
  },
};
