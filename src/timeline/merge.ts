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

/**
 * Where a page starts: right after the event at this position, for every source but those in
 * `places`, each of which starts after a place of its own. A source that failed keeps the place
 * it had (its events past it were never seen: the next pages bring them once it answers, and
 * the others are not asked again for what was already shown); a source whose catch-up events
 * fill a page keeps the others where they were. Absent or empty `places`: every source at the
 * position (the only cursor there was before a source could be held back).
 */
export interface TimelineCursor extends TimelinePosition {
  places?: readonly SourcePlace[];
}

/** A source's own place in a cursor: after `after`, or from its newest event (null). */
export interface SourcePlace {
  source: SourceName;
  after: TimelinePosition | null;
}

/** Where `source` starts after `cursor` (null: from its newest event). */
export function placeOf(cursor: TimelineCursor | null, source: SourceName): TimelinePosition | null {
  if (cursor === null) return null;
  const own = cursor.places?.find((p) => p.source === source);
  return own ? own.after : { at: cursor.at, kind: cursor.kind, source: cursor.source, id: cursor.id };
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
  /** Each event's cursor: where the page after it starts. */
  cursors: TimelineCursor[];
  /**
   * Whether the page after the last event may hold events: older ones of the sources that
   * answered, or those a failed source holds after its place.
   */
  hasNextPage: boolean;
  gaps: TimelineGap[];
}

export interface PageRequest {
  first: number;
  after: TimelineCursor | null;
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
  // A source that could not answer for one of the customer's records is held back whole: its
  // answered records' events would come again when it is asked again from its place.
  const failed = new Set(answers.filter((a) => a.results.some((l) => l instanceof Error)).map((a) => a.source));
  const seen = new Set<string>();
  const events: TimelinePage['events'] = [];
  const sinceMs = req.since == null ? null : Date.parse(req.since);
  // A malformed row takes a place in its key's answer as an event does: a full answer holding one
  // may leave fewer than `first + 1` events here although its source has more after them.
  let fullWithErrors = false;
  for (const { source, results } of answers) {
    const from = placeOf(req.after, source);
    for (const list of results) {
      if (list instanceof Error) {
        noteGap(source, list);
        continue;
      }
      if (failed.has(source)) continue;
      const placed = list.filter((e) => !isUnplaced(e));
      if (placed.length > req.first && placed.some((e) => e instanceof Error)) fullWithErrors = true;
      for (const e of list) {
        if (e instanceof Error) {
          noteGap(source, e);
          continue;
        }
        // Defensive: a source that ignored the bound must not make a page repeat or reach back.
        if (from && compareTimeline({ ...e, source }, from) <= 0) continue;
        if (sinceMs !== null && Date.parse(e.at) < sinceMs) continue;
        const key = `${source}\u0000${e.kind}\u0000${e.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        events.push({ ...e, source });
      }
    }
  }
  events.sort(compareTimeline);
  const page = events.slice(0, req.first);
  // Each source answered its first + 1 events after its place, so every event of it up to any
  // event of this page is in the page: after that event, it stands at the later of its place and
  // the event. A failed source stands where it stood.
  const cursors = page.map((e): TimelineCursor => {
    const at: TimelinePosition = { at: e.at, kind: e.kind, source: e.source, id: e.id };
    const places: SourcePlace[] = [];
    for (const { source } of answers) {
      const from = placeOf(req.after, source);
      const to = failed.has(source) ? from : from && compareTimeline(from, at) > 0 ? from : at;
      if (to !== null && compareTimeline(to, at) === 0) continue;
      places.push({ source, after: to });
    }
    return places.length ? { ...at, places } : at;
  });
  // More follow when the union has them, or a full answer lost places to malformed rows (the
  // next page starts after this page's last event; a page without one has nowhere to go on from),
  // or a failed source is held back behind the last event.
  const held = cursors.length > 0 && (cursors[cursors.length - 1].places ?? []).some((p) => failed.has(p.source));
  const hasNextPage = events.length > req.first || (fullWithErrors && events.length > 0) || held;
  return { events: page, cursors, hasNextPage, gaps: [...gaps.values()] };
}
