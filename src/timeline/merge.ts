/**
 * One timeline page from the sources' answers: every source was asked for its newest events
 * after the same position (at most `first + 1` per key), so the newest `first` of their union
 * are exactly the page, and one more tells whether another page follows. A source that failed
 * leaves a gap, reported beside the events, never a broken stream.
 *
 * Pure: no I/O.
 */
import { isSourceError, SourceError } from '../errors';
import type { EventPosition, Instant, SourceEvent, SourceName, Slot } from '../sources/types';
import { compareEvents, isAfter } from './order';

/** What one source answered for a customer's keys: per key its events, or the error for that key. */
export interface SourceAnswer {
  source: SourceName;
  results: Array<Slot<SourceEvent>[] | Error>;
}

/** A source whose events are (partly) missing from a page. */
export interface TimelineGap {
  source: SourceName;
  code: string;
  message: string;
  /** The coded error, for the response's `errors`. */
  error: SourceError;
}

export interface TimelinePage {
  events: Array<SourceEvent & { source: SourceName }>;
  hasNextPage: boolean;
  gaps: TimelineGap[];
}

export interface PageRequest {
  first: number;
  after: EventPosition | null;
  since: Instant | null;
}

function asSourceError(source: SourceName, e: Error): SourceError {
  if (isSourceError(e)) return e;
  // A non-source failure of a load is our bug; the gap still names the source it left empty.
  return new SourceError(source, 'SOURCE_BAD_RESPONSE', `${source}: events could not be read`);
}

export function mergeTimeline(answers: readonly SourceAnswer[], req: PageRequest): TimelinePage {
  const gaps = new Map<SourceName, TimelineGap>();
  const noteGap = (source: SourceName, e: Error) => {
    if (gaps.has(source)) return;
    const error = asSourceError(source, e);
    gaps.set(source, { source, code: String(error.extensions.code), message: error.message, error });
  };
  const seen = new Set<string>();
  const events: TimelinePage['events'] = [];
  const sinceMs = req.since == null ? null : Date.parse(req.since);
  for (const { source, results } of answers) {
    for (const list of results) {
      if (list instanceof Error) {
        noteGap(source, list);
        continue;
      }
      for (const e of list) {
        if (e instanceof Error) {
          noteGap(source, e);
          continue;
        }
        // Defensive: a source that ignored the bound must not make a page repeat or reach back.
        if (req.after && !isAfter(e, req.after)) continue;
        if (sinceMs !== null && Date.parse(e.at) < sinceMs) continue;
        const key = `${e.kind}\u0000${e.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        events.push({ ...e, source });
      }
    }
  }
  events.sort(compareEvents);
  return { events: events.slice(0, req.first), hasNextPage: events.length > req.first, gaps: [...gaps.values()] };
}
