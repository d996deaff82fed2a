/**
 * One timeline page for a customer: the OneID round for their record keys, then ONE load per
 * source (all customers of a level batch into one call each), each asking for that source's
 * newest `first + 1` events after the cursor, then the pure merge (merge.ts). The one extra
 * event per source tells whether another page follows without a second round.
 */
import type { Loaders } from '../loaders';
import { SOURCE_NAMES, type EventKind, type EventPosition, type Instant } from '../sources/types';
import { mergeTimeline, type SourceAnswer, type TimelinePage } from './merge';
import { kindsWanted } from './order';

/** Largest page: each source is asked for first + 1 events per key, within the event APIs' 1000. */
export const MAX_TIMELINE_PAGE = 500;

export interface TimelineRequest {
  first: number;
  after: EventPosition | null;
  since: Instant | null;
  /** Null: every kind. */
  kinds: readonly EventKind[] | null;
}

export async function timelinePage(loaders: Loaders, customerId: string, req: TimelineRequest): Promise<TimelinePage> {
  const linked = await loaders.sourceRecords.load(customerId);
  const answers = await Promise.all(
    SOURCE_NAMES.map(async (source): Promise<SourceAnswer> => {
      const kinds = kindsWanted(source, req.kinds);
      const keys = linked.filter((r) => r.source === source).map((r) => r.recordId);
      if (kinds.length === 0 || keys.length === 0) return { source, results: [] };
      // The kinds list is this source's own, so customers asking for the same kinds share a loader.
      const query = { after: req.after, since: req.since, kinds: req.kinds === null ? null : kinds, limit: req.first + 1 };
      return { source, results: await loaders.events(source, query).loadMany(keys) };
    }),
  );
  return mergeTimeline(answers, req);
}
