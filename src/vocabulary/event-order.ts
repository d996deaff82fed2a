/**
 * The one event order (see `EventPosition` in src/vocabulary) as code, shared by the
 * connectors that push a timeline page down to their system and by the gateway that merges
 * the answers. Every party must agree on it exactly, or pages skip or repeat events; so it
 * lives here, once, beside the vocabulary every layer imports.
 *
 * Pure functions, no I/O.
 */
import { EVENT_KIND_PATTERN, type EventKind, type EventPosition, type EventQuery, type SourceName } from './index';

export const isEventKind = (k: unknown): k is EventKind => typeof k === 'string' && EVENT_KIND_PATTERN.test(k);

/** The kinds of `own` (a source's kinds) that `kinds` wants, in event order; empty means: don't ask the source at all. */
export function kindsWanted(own: readonly EventKind[], kinds: readonly EventKind[] | null): EventKind[] {
  return [...own].sort(compareText).filter((k) => kinds === null || kinds.includes(k));
}

/** Plain string order (UTF-16 code units), the order kinds and text ids share everywhere. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Shortlex: shorter first, then character order. Equals numeric order for integers without leading zeros. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || compareText(a, b);
}

/** A kind's index in the tie order among a source's own kinds, for SQL, where a constant rank sorts the same on every engine and collation. */
export function kindRank(own: readonly EventKind[], kind: EventKind): number {
  return [...own].sort(compareText).indexOf(kind);
}

interface Ordered {
  at: string;
  kind: EventKind;
  id: string;
}

/** Negative when `a` comes first in the timeline (newer, or the same instant and earlier in the tie order). */
export function compareEvents(a: Ordered, b: Ordered): number {
  const ta = Date.parse(a.at);
  const tb = Date.parse(b.at);
  if (ta !== tb) return tb - ta;
  return compareText(a.kind, b.kind) || compareIds(a.id, b.id);
}

/** True when `e` comes strictly after `pos` in the timeline (i.e. belongs on a later page). */
export function isAfter(e: Ordered, pos: EventPosition): boolean {
  return compareEvents(e, pos) > 0;
}

/**
 * What an event of `kind` needs, to lie strictly after `pos`, said as a bound on its time alone,
 * so a source can filter with one comparison per kind:
 *   - `before`: its time must be earlier than `at` (kinds ordered before pos.kind);
 *   - `atOrBefore`: its time may equal `at` (kinds ordered after pos.kind);
 *   - `tie`: earlier, or equal with an id after `id` (the position's own kind).
 */
export type KindBound = { mode: 'before' | 'atOrBefore'; at: number } | { mode: 'tie'; at: number; id: string };

/**
 * The bound for one kind, in the source's own time resolution (`unitMs`: 1 for milliseconds,
 * 1000 for whole seconds; `at` is then in that unit). A source that keeps whole seconds cannot
 * hold a time between two seconds: if the position falls inside a second, every event of that
 * second is older than it, whatever its kind.
 */
export function kindBound(kind: EventKind, pos: EventPosition, unitMs = 1): KindBound {
  const ms = Date.parse(pos.at);
  const at = Math.floor(ms / unitMs);
  if (at * unitMs !== ms) return { mode: 'atOrBefore', at };
  const c = compareText(kind, pos.kind);
  if (c < 0) return { mode: 'before', at };
  if (c > 0) return { mode: 'atOrBefore', at };
  return { mode: 'tie', at, id: pos.id };
}

/** `since` in the source's unit, rounded up: an event at or after it in that unit is at or after it in ms. */
export function sinceInUnit(since: string | null, unitMs = 1): number | null {
  if (since == null) return null;
  return Math.ceil(Date.parse(since) / unitMs);
}

const UNPLACED = Symbol('unplaced event error');

/**
 * Marks a malformed event the source cannot place in the event order (a marketplace trade with
 * no readable time, built in code): answered after the key's events, it takes none of `limit`'s
 * places. An unmarked error in an events list took the place its row had (an SQL row, an API's
 * item), so the gateway knows a full answer holding one may have more events after it.
 */
export const unplaced = <E extends Error>(e: E): E => Object.assign(e, { [UNPLACED]: true });

export const isUnplaced = (e: unknown): boolean => typeof e === 'object' && e !== null && UNPLACED in e;

/** Misuse of a connector's event query fails fast, naming the bad value. */
export function checkEventQuery(source: SourceName, q: EventQuery): void {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > 1000)
    throw new Error(`${source} events: limit must be an integer from 1 to 1000, got ${JSON.stringify(q.limit)}`);
  if (q.after && (!isEventKind(q.after.kind) || !Number.isFinite(Date.parse(q.after.at)) || typeof q.after.id !== 'string'))
    throw new Error(`${source} events: not an event position: ${JSON.stringify(q.after)}`);
  if (q.since != null && !Number.isFinite(Date.parse(q.since))) throw new Error(`${source} events: since is not an instant: ${JSON.stringify(q.since)}`);
}

/**
 * The largest integer id (canonical decimal, no leading zeros) that is at most `s` in shortlex
 * order, or -1 when there is none. Lets SQL compare an integer id column with any position id
 * exactly: `id > numeralAtMost(s)` holds precisely for the ids after `s`.
 */
export function numeralAtMost(s: string): number {
  const L = s.length;
  if (L === 0) return -1;
  if (L > 16) return Number.MAX_SAFE_INTEGER;
  const largestShorter = L === 1 ? -1 : 10 ** (L - 1) - 1;
  // The largest digit string of length L that is <= s in character order.
  const digits: string[] = [];
  let i = 0;
  for (; i < L; i++) {
    const c = s[i];
    if (c >= '0' && c <= '9') digits.push(c);
    else break;
  }
  if (i < L) {
    if (s[i] > '9') digits.push('9'.repeat(L - i));
    else {
      // s[i] sorts below '0': some earlier digit must drop by one, the rest become 9s.
      let j = digits.length - 1;
      while (j >= 0 && digits[j] === '0') j--;
      if (j < 0) return largestShorter;
      digits.splice(j, digits.length - j, String(Number(digits[j]) - 1), '9'.repeat(L - j - 1));
    }
  }
  const str = digits.join('');
  if (L > 1 && str[0] === '0') return largestShorter;
  return Math.min(Number(str), Number.MAX_SAFE_INTEGER);
}

/**
 * The SQL condition for one kind's events to lie after `pos` (and at or after `since`), on a
 * time column (values converted by `atValue` into the column's own form) and an id column.
 * Integer id columns compare numerically (equal to shortlex for canonical integers), text id
 * columns by length, then text: shortlex. Any position id, even one no source made, is exact.
 */
export function eventConditionSql(
  bound: KindBound | null,
  since: number | null,
  atColumn: string,
  idColumn: string,
  idType: 'integer' | 'text',
  atValue: (at: number) => number | string = (at) => at,
): { sql: string; bindings: Array<number | string> } {
  const parts: string[] = [];
  const bindings: Array<number | string> = [];
  if (bound?.mode === 'before') {
    parts.push(`${atColumn} < ?`);
    bindings.push(atValue(bound.at));
  } else if (bound?.mode === 'atOrBefore') {
    parts.push(`${atColumn} <= ?`);
    bindings.push(atValue(bound.at));
  } else if (bound?.mode === 'tie') {
    const at = atValue(bound.at);
    if (idType === 'integer') {
      parts.push(`(${atColumn} < ? or (${atColumn} = ? and ${idColumn} > ?))`);
      bindings.push(at, at, numeralAtMost(bound.id));
    } else {
      parts.push(`(${atColumn} < ? or (${atColumn} = ? and (length(${idColumn}) > ? or (length(${idColumn}) = ? and ${idColumn} > ?))))`);
      bindings.push(at, at, bound.id.length, bound.id.length, bound.id);
    }
  }
  if (since != null) {
    parts.push(`${atColumn} >= ?`);
    bindings.push(atValue(since));
  }
  return { sql: parts.length ? parts.join(' and ') : '1 = 1', bindings };
}
