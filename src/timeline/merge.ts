/**
 * One timeline page from the sources' answers: every source was asked for its newest events
 * after the same position (at most `first + 1` per key), so the newest `first` of their union
 * are exactly the page, and one more tells whether another page follows. A source that failed
 * leaves a gap, reported beside the events, never a broken stream.
 *
 * Pure: no I/O.
 */
import { isSourceError, SourceError } from '../errors';
import type { EventPosition, Instant, SourceEvent, SourceName, Slot } from '../vocabulary';
import { compareEvents, isUnplaced } from '../vocabulary/event-order';

/**
 * A place in the gateway's timeline: the sources' event order (src/vocabulary), with ties of
 * the same instant and kind from different sources broken by source name, then id. Two shops
 * both emit `order_placed`, each with its own ids; the source makes the order total again.
 */
export interface TimelinePosition extends EventPosition {
  source: SourceName;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Negative when `a` comes first in the timeline. */
export function compareTimeline(a: TimelinePosition, b: TimelinePosition): number {
  const ta = Date.parse(a.at);
  const tb = Date.parse(b.at);
  if (ta !== tb) return tb - ta;
  return compareText(a.kind, b.kind) || compareText(a.source, b.source) || compareEvents(a, b);
}

/** An id later than any a source hands out (event APIs take ids of at most 64 characters), in shortlex order. */
const LAST_ID = '~'.repeat(64);

/**
 * The position to send `source` so that it answers exactly its events after `pos` in the
 * timeline: the same position from the same source; from another, the instant and kind of
 * `pos` with the tie between sources settled here (an earlier source has nothing after pos at
 * that instant and kind; a later one has all of them).
 */
export function positionFor(source: SourceName, pos: TimelinePosition): EventPosition {
  if (source === pos.source) return { at: pos.at, kind: pos.kind, id: pos.id };
  return { at: pos.at, kind: pos.kind, id: source < pos.source ? LAST_ID : '' };
}

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
  after: TimelinePosition | null;
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
  // A malformed row takes a place in its key's answer as an event does: a full answer holding one
  // may leave fewer than `first + 1` events here although its source has more after them.
  let fullWithErrors = false;
  for (const { source, results } of answers) {
    for (const list of results) {
      if (list instanceof Error) {
        noteGap(source, list);
        continue;
      }
      const placed = list.filter((e) => !isUnplaced(e));
      if (placed.length > req.first && placed.some((e) => e instanceof Error)) fullWithErrors = true;
      for (const e of list) {
        if (e instanceof Error) {
          noteGap(source, e);
          continue;
        }
        // Defensive: a source that ignored the bound must not make a page repeat or reach back.
        if (req.after && compareTimeline({ ...e, source }, req.after) <= 0) continue;
        if (sinceMs !== null && Date.parse(e.at) < sinceMs) continue;
        const key = `${source}\u0000${e.kind}\u0000${e.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        events.push({ ...e, source });
      }
    }
  }
  events.sort(compareTimeline);
  // More follow when the union has them, or a full answer lost places to malformed rows (the
  // next page starts after this page's last event; a page without one has nowhere to go on from).
  const hasNextPage = events.length > req.first || (fullWithErrors && events.length > 0);
  return { events: events.slice(0, req.first), hasNextPage, gaps: [...gaps.values()] };
}
