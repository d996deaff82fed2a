/**
 * Zendesk's own wire conventions, as the helpdesk kind reads them: its cursor pagination, the
 * listings a chunk of requesters' tickets come from (`api: 'zendesk'`: only endpoints Zendesk
 * documents), the metric sets that carry a ticket's solved time, and the events a ticket stands
 * for, where Zendesk has no per-requester event feed.
 *
 * Listings (one observed call per chunk of requesters, its pages within it):
 *   - this helpdesk's `GET /api/v2/tickets?requester_ids=…` (`api: 'gateway'`, the default; not Zendesk's);
 *   - Zendesk's Search Export, `GET /api/v2/search/export?query=requester:1 requester:2 …&filter[type]=ticket`
 *     (`ticketReads: 'search'`): one call per chunk, its results ordered by created_at only, up to
 *     1,000 a page, cursor pagination, 100 calls a minute
 *     (developer.zendesk.com/api-reference/ticketing/ticket-management/search/#export-search-results);
 *   - Zendesk's `GET /api/v2/users/{user_id}/tickets/requested` (`ticketReads: 'requested'`): one
 *     requester a call (developer.zendesk.com/api-reference/ticketing/tickets/tickets/#list-tickets).
 *
 * Pure reads of a body and one paged listing; no state.
 */
import { isSourceError, type SourceError } from '../../errors';
import { badResponse, type HttpTransport, type JsonObject, type Query } from '../http';
import { compareEvents, isAfter } from '../../vocabulary/event-order';
import type { EventKind, EventQuery, Slot, SourceEvent, SourceName } from '../../vocabulary';
import type { Ticket } from '../../capabilities';

/** Zendesk's endpoints this kind reads in `api: 'zendesk'` beside show_many and the incremental user export. */
export const ZENDESK_PATH = {
  searchExport: '/api/v2/search/export',
  requested: '/api/v2/users/{id}/tickets/requested',
  me: '/api/v2/users/me',
} as const;

/** Zendesk's cursor pagination: at most 100 a page for its listings (`page[size]`), the next one from `meta.after_cursor`. */
export const TICKET_PAGE_SIZE = 100;
/** Pages one listing reads at most (10,000 tickets at 100 a page): past it the listing is a server loop, answered SOURCE_BAD_RESPONSE. */
export const MAX_TICKET_PAGES = 100;

/** One page of a ticket listing: its tickets and the metric sets sideloaded with them (none when the listing sends none). */
export interface ListingPage {
  rows: JsonObject[];
  metricSets: JsonObject[];
}

/** What one listing asks: its path (a template, with `segments` to fill), the array its tickets come in, and its own parameters. */
export interface Listing {
  path: string;
  key: string;
  params: Query;
  segments?: Readonly<Record<string, string>>;
}

/**
 * The Search Export query for a chunk of requesters: `requester:<id>` once per id. Zendesk's search
 * joins the values of a repeated keyword with OR (the form public clients use, `status:open
 * status:pending`; docs/sources.md says how to check it), and the type goes in `filter[type]`,
 * never in the query (the export refuses it). Tickets are placed by their `requester_id`, so one
 * matched otherwise answers no key.
 */
export function requesterQuery(ids: readonly string[]): string {
  return ids.map((id) => `requester:${id}`).join(' ');
}

/**
 * Every page of one listing: Zendesk's cursor pagination, followed while `meta.has_more` with
 * `meta.after_cursor` as `page[after]`, bounded (MAX_TICKET_PAGES). A body without the listing's
 * array, a `meta` that is not Zendesk's, a cursor that does not move on or a `metric_sets` that is
 * not an array fails the whole listing (its chunk's keys) with SOURCE_BAD_RESPONSE.
 */
export async function listingPages(SOURCE: SourceName, transport: HttpTransport, listing: Listing): Promise<ListingPage[]> {
  const request = `GET ${listing.path}`;
  const pages: ListingPage[] = [];
  let after: string | null = null;
  for (;;) {
    const body = await transport.getJson(listing.path, { ...listing.params, 'page[size]': TICKET_PAGE_SIZE, 'page[after]': after }, listing.segments);
    pages.push({ rows: objects(SOURCE, body, listing.key, request), metricSets: body.metric_sets === undefined ? [] : objects(SOURCE, body, 'metric_sets', request) });
    const meta = body.meta;
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) throw badResponse(SOURCE, request, '"meta" is not an object');
    const { has_more: hasMore, after_cursor: next } = meta as JsonObject;
    if (typeof hasMore !== 'boolean') throw badResponse(SOURCE, request, '"meta.has_more" is not a boolean');
    if (!hasMore) return pages;
    if (typeof next !== 'string' || next === '' || next === after) throw badResponse(SOURCE, request, '"meta.after_cursor" does not move on');
    if (pages.length >= MAX_TICKET_PAGES) throw badResponse(SOURCE, request, `more than ${MAX_TICKET_PAGES} pages`);
    after = next;
  }
}

/** The `key` array of a body, each element an object; anything else is a bad response. */
export function objects(SOURCE: SourceName, body: JsonObject, key: string, request: string): JsonObject[] {
  const list = body[key];
  if (!Array.isArray(list)) throw badResponse(SOURCE, request, `"${key}" is not an array`);
  return list.map(asObject);
}

/** An element of a body's array as an object; anything else reads as an empty one. */
function asObject(item: unknown): JsonObject {
  return item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as JsonObject) : {};
}

/**
 * The solved time each ticket's metric set gives, by ticket id (a wire value, read by the ticket's
 * converter). Zendesk's Ticket has no `solved_at`: the time a ticket was solved is its metric
 * set's (`include=metric_sets`, developer.zendesk.com/api-reference/ticketing/tickets/ticket_metrics/).
 */
export function solvedTimes(pages: readonly ListingPage[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const page of pages) {
    for (const m of page.metricSets) {
      const id = m.ticket_id;
      if ((typeof id === 'number' && Number.isSafeInteger(id)) || typeof id === 'string') out.set(String(id), m.solved_at);
    }
  }
  return out;
}

/** Newest first, then the higher id: the order the helpdesk's own listing answers a requester's tickets in, whatever order a listing sent. */
export function newestFirst(a: Slot<Ticket>, b: Slot<Ticket>): number {
  if (a instanceof Error || b instanceof Error) return (a instanceof Error ? 1 : 0) - (b instanceof Error ? 1 : 0);
  return Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id.length - a.id.length || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

/**
 * The events one ticket stands for: opened (created), solved (when it has a solved time) and rated
 * (when rated; a rating is stamped with the ticket's last update, as the helpdesk's own feed does).
 */
function ticketEvents(t: Ticket): SourceEvent[] {
  const base = { id: t.id, recordId: t.requesterId, refId: t.id, title: t.subject, status: t.status, channel: t.channel };
  const out: SourceEvent[] = [{ ...base, kind: 'ticket_opened', at: t.createdAt, score: null }];
  if (t.solvedAt) out.push({ ...base, kind: 'ticket_solved', at: t.solvedAt, score: null });
  if (t.satisfactionScore !== null) out.push({ ...base, kind: 'ticket_rated', at: t.updatedAt, score: t.satisfactionScore });
  return out;
}

/**
 * One requester's page of events from its tickets, as `query` asks: the `kinds` wanted, at or after
 * `since`, strictly after `after`, in the event order, at most `limit`. A ticket that was a bad
 * row stays a row error in the list (after the events), so it is not lost in silence.
 */
export function eventsOfTickets(tickets: readonly Slot<Ticket>[], query: EventQuery, kinds: readonly EventKind[]): Array<Slot<SourceEvent>> {
  const since = query.since == null ? null : Date.parse(query.since);
  const events: SourceEvent[] = [];
  const errors: SourceError[] = [];
  for (const t of tickets) {
    if (isSourceError(t)) {
      errors.push(t);
      continue;
    }
    for (const e of ticketEvents(t)) {
      if (!kinds.includes(e.kind)) continue;
      if (since !== null && Date.parse(e.at) < since) continue;
      if (query.after && !isAfter(e, query.after)) continue;
      events.push(e);
    }
  }
  events.sort(compareEvents);
  return [...events.slice(0, query.limit), ...errors];
}
