/**
 * One timeline page for a customer: the OneID round for their record keys, then ONE load per
 * source (all customers of a level batch into one call each), each asking for that source's
 * newest `first + 1` events after the cursor, then the pure merge (merge.ts). The one extra
 * event per source tells whether another page follows without a second round.
 */
import type { Loaders } from '../loaders';
import type { EventKind, Instant } from '../vocabulary';
import { kindsWanted } from '../vocabulary/event-order';
import { mergeTimeline, placeOf, positionFor, type SourceAnswer, type TimelineCursor, type TimelinePage } from './merge';

/** Largest page: each source is asked for first + 1 events per key, within the event APIs' 1000. */
export const MAX_TIMELINE_PAGE = 500;

export interface TimelineRequest {
  first: number;
  after: TimelineCursor | null;
  since: Instant | null;
  /** Null: every kind. */
  kinds: readonly EventKind[] | null;
}

export async function timelinePage(loaders: Loaders, customerId: string, req: TimelineRequest): Promise<TimelinePage> {
  const linked = await loaders.sourceRecords.load(customerId);
  const answers = await Promise.all(
    loaders.registry.providing('events').map(async ({ name: source, capability }): Promise<SourceAnswer> => {
      const kinds = kindsWanted(capability.kinds, req.kinds);
      const keys = linked.filter((r) => r.source === source).map((r) => r.recordId);
      if (kinds.length === 0 || keys.length === 0) return { source, results: [] };
      // The kinds list is this source's own, so customers asking for the same kinds share a loader.
      // Each source from its own place: the cursor's position, or where a failure held it back.
      const from = placeOf(req.after, source);
      const query = { after: from && positionFor(source, from), since: req.since, kinds: req.kinds === null ? null : kinds, limit: req.first + 1 };
      return { source, results: await loaders.events(source, query).loadMany(keys) };
    }),
  );
  return mergeTimeline(answers, req);
}
