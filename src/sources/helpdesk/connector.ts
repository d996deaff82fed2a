/**
 * Support helpdesk connector (Zendesk-style HTTP JSON API, demo/SOURCES.md).
 *
 * Keys: requester (user) ids, decimal strings; the OneID record is `support` / user id.
 * One call = one GET carrying up to `maxBatch` ids (the API takes at most 100): show_many for
 * requesters; a ticket listing for tickets (one observed call per chunk, its cursor pages within
 * it); requesters/events for timeline pages (the helpdesk cuts each requester's events to the
 * page). The identity feed is the incremental user export, one GET per page of up to 1000 users.
 * Transport (timeout, retries, breaker): http.ts.
 *
 * Two dialects (`api`). `gateway` (the default): show_many, the incremental export, cursor
 * pagination and the rating words are Zendesk's own; `tickets?requester_ids` and `requesters/events`
 * are not (a gateway in front of a Zendesk offers them). `zendesk`: Zendesk's own endpoints only
 * (zendesk.ts): tickets from its Search Export, one call per chunk of requesters (or its
 * per-requester listing, bounded per batch), events derived from those tickets, health from
 * `users/me`. In both, a user the export says is inactive (`active: false`, deleted) is reported
 * deleted by the scan.
 */
import { badRow, isSourceError, SourceRefusal, type SourceError, unreadableRecord } from '../../errors';
import type { CountryCode } from 'libphonenumber-js';
import { canonicalText, DEFAULT_PHONE_REGION, instantFromIso, normalizeEmail, normalizePhone } from '../../canonical';
import { badResponse, connectorTransport, type HttpConnectorOptions, type HttpTransport, type JsonObject, type Query } from '../http';
import { chunked, groupByKey, listsOf, NONE_FAILED, noneFailed, type Chunked, type SourceObserver } from '../observe';
import { eventsOfTickets, listingPages, newestFirst, objects, requesterQuery, solvedTimes, ZENDESK_PATH, type Listing, type ListingPage } from './zendesk';
import type { EventKind, EventQuery, ListSlot, RawIdentifier, ScanPage, ScannedRecord, Slot, SourceAccount, SourceEvent, SourceName } from '../../vocabulary';
import { SATISFACTION_SCALE, type Ticket } from '../../capabilities';
import type { HelpdeskConnector, SupportRequester } from './types';
import { checkEventQuery, isEventKind, kindsWanted, sinceInUnit } from '../../vocabulary/event-order';

export interface HelpdeskConnectorConfig extends HttpConnectorOptions {
  /** The instance name: OneID source, metrics and errors (default `support`). */
  name?: SourceName;
  /** API token, sent as a bearer token. */
  token: string;
  /** Region for phones typed without a country code; default CN. */
  defaultRegion?: CountryCode;
  /** The scale this helpdesk rates on (default 1 to 5); its scores are mapped onto SATISFACTION_SCALE. */
  satisfactionScale?: { min: number; max: number };
  /** Which endpoints it speaks: `gateway` (default: this helpdesk's ticket and event listings) or `zendesk` (Zendesk's own only). */
  api?: 'gateway' | 'zendesk';
  /** With `api: 'zendesk'`: tickets from the Search Export, a chunk of requesters a call (`search`, default), or one requester a call (`requested`). */
  ticketReads?: 'search' | 'requested';
  /** With `ticketReads: 'requested'`: requesters one batch reads at most (default 20); the others answer SOURCE_UNAVAILABLE unasked. */
  requestedPerLevel?: number;
}

/**
 * Zendesk's own rating words (its Tickets API's `satisfaction_rating.score`, legacy CSAT:
 * developer.zendesk.com/api-reference/ticketing/ticket-management/satisfaction_ratings/).
 * Its CSAT is binary: `bad` and `good` are the ends of the scale, 1 and 5, as the linear rule
 * maps any two-point scale (bad 0, good 1), so a bad rating is as unhappy as a 1 (`unhappy`,
 * `lastSatisfaction: { max: 2 }`) and a good one as pleased as a 5. `offered` (the survey went out,
 * no answer) and `unoffered` are no rating. Whatever scale the instance declares for numbers.
 */
const ZENDESK_RATINGS: ReadonlyMap<string, 'min' | 'max' | null> = new Map([
  ['good', 'max'],
  ['bad', 'min'],
  ['offered', null],
  ['unoffered', null],
]);

/**
 * A rating on the source's scale as a score on SATISFACTION_SCALE (linear, to the nearest whole
 * point: 0–10's 7 is 4); Zendesk's words as ZENDESK_RATINGS says; null when not rated; an Error
 * for a score off the source's scale or neither a number nor one of Zendesk's words (a 9 from a
 * helpdesk declared 1–5 is a misconfigured scale, not a delighted customer).
 */
export function canonicalScore(raw: unknown, scale: { min: number; max: number }): number | null | Error {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'string' && ZENDESK_RATINGS.has(raw)) {
    const end = ZENDESK_RATINGS.get(raw);
    return end ? SATISFACTION_SCALE[end] : null;
  }
  const where = `the source's scale ${scale.min} to ${scale.max} (its satisfactionScale option)`;
  if (typeof raw === 'string')
    return new Error(`satisfaction score ${JSON.stringify(raw.slice(0, 20))} is neither a number on ${where} nor one of Zendesk's ${[...ZENDESK_RATINGS.keys()].join(', ')}`);
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < scale.min || raw > scale.max)
    return new Error(`satisfaction score ${JSON.stringify(raw)?.slice(0, 20)} is not on ${where}`);
  const { min, max } = SATISFACTION_SCALE;
  return Math.round(min + ((raw - scale.min) * (max - min)) / (scale.max - scale.min));
}

/**
 * The statuses Zendesk writes (a ticket's status category when custom statuses are on:
 * developer.zendesk.com/api-reference/ticketing/tickets/custom_ticket_statuses/), which the
 * service schema's TicketStatus names. Anything else is a row error: passed on, GraphQL could not
 * serialize it, a status filter dropped it and BI counted it as open.
 */
const TICKET_STATUSES: ReadonlySet<string> = new Set(['new', 'open', 'pending', 'hold', 'solved', 'closed']);

/** The timeline event kinds this system emits. */
export const HELPDESK_EVENTS: readonly EventKind[] = ['ticket_opened', 'ticket_rated', 'ticket_solved'];

/** The instance name when the options name none (the demo's). */
const DEFAULT_NAME = 'support';
const API_MAX_IDS = 100;
const API_MAX_PAGE = 1000;
const CURSOR_PREFIX = 'zd1:';
/**
 * Times one scan page waits out the incremental export's Retry-After before it gives up (each
 * wait as long as the helpdesk asked, which the transport caps at 300 s). Zendesk allows 10 export
 * calls a minute (developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/):
 * a helpdesk of more than 10 pages of users meets the limit on every first resolution.
 */
const SCAN_WAITS = 5;
/**
 * The longest Retry-After a scan waits out (Zendesk's export window is a minute). A longer one
 * fails the page as before. A resolution asked to stop ends a wait at once (the scan's `signal`).
 */
const SCAN_WAIT_MAX_SECONDS = 60;

/** With `ticketReads: 'requested'`: requesters one batch reads by default, one call each, of the account's limit a minute (which depends on its plan). */
const DEFAULT_REQUESTED_PER_LEVEL = 20;

const PATH = {
  users: '/api/v2/users/show_many',
  tickets: '/api/v2/tickets',
  export: '/api/v2/incremental/users/cursor',
  events: '/api/v2/requesters/events',
  ping: '/api/v2/ping',
} as const;

/** Ids the API can look up: positive integers as canonical decimal strings. Anything else is unknown without asking. */
const isUserId = (id: string) => /^[1-9]\d{0,15}$/.test(id);

/** The record key for a wire id (a JSON number, or a numeric string from a lenient server). */
function wireId(v: unknown): string | null {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return String(v);
  if (typeof v === 'string' && isUserId(v)) return v;
  return null;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

function toRequester(SOURCE: SourceName, region: CountryCode, u: JsonObject, id: string): Slot<SupportRequester> {
  const createdAt = instantFromIso(u.created_at);
  const updatedAt = instantFromIso(u.updated_at);
  if (!createdAt) return badRow(SOURCE, 'user', 'created_at is not an ISO-8601 time');
  if (!updatedAt) return badRow(SOURCE, 'user', 'updated_at is not an ISO-8601 time');
  return {
    id,
    name: canonicalText(text(u.name)),
    email: normalizeEmail(text(u.email)),
    phone: normalizePhone(text(u.phone), region),
    createdAt,
    updatedAt,
  };
}

/**
 * One ticket in the canonical vocabulary. Its solved time is its own `solved_at` (this helpdesk's
 * listing), else its metric set's (`solved`, by ticket id: Zendesk's Ticket has no `solved_at`).
 */
function toTicket(SOURCE: SourceName, scale: { min: number; max: number }, solved: ReadonlyMap<string, unknown>, t: JsonObject, requesterId: string): Slot<Ticket> {
  const id = wireId(t.id);
  if (!id) return badRow(SOURCE, 'ticket', 'id is missing');
  const createdAt = instantFromIso(t.created_at);
  const updatedAt = instantFromIso(t.updated_at);
  if (!createdAt) return badRow(SOURCE, 'ticket', 'created_at is not an ISO-8601 time');
  if (!updatedAt) return badRow(SOURCE, 'ticket', 'updated_at is not an ISO-8601 time');
  let solvedAt: string | null = null;
  const solvedRaw = t.solved_at !== undefined ? t.solved_at : solved.get(id);
  if (solvedRaw != null) {
    solvedAt = instantFromIso(solvedRaw);
    if (!solvedAt) return badRow(SOURCE, 'ticket', 'solved_at is not an ISO-8601 time');
  }
  const subject = typeof t.subject === 'string' ? t.subject : null;
  const status = text(t.status);
  if (subject === null) return badRow(SOURCE, 'ticket', 'subject is missing');
  if (!status) return badRow(SOURCE, 'ticket', 'status is missing');
  if (!TICKET_STATUSES.has(status)) return badRow(SOURCE, 'ticket', `status is not one of ${[...TICKET_STATUSES].join(', ')}`);
  const via = t.via as { channel?: unknown } | null | undefined;
  const rating = t.satisfaction_rating as { score?: unknown } | null | undefined;
  const score = canonicalScore(rating?.score, scale);
  if (score instanceof Error) return badRow(SOURCE, 'ticket', score.message);
  return {
    source: SOURCE,
    id,
    requesterId,
    subject,
    status,
    priority: text(t.priority),
    channel: text(via?.channel) ?? 'unknown',
    satisfactionScore: score,
    createdAt,
    updatedAt,
    solvedAt,
  };
}

/** Unix seconds in the helpdesk's time format (`2024-03-01T08:15:00Z`). */
const storeTime = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The query string for one events call. The helpdesk keeps whole seconds and orders events the
 * timeline's way (see SOURCES.md), so a position falling inside a second becomes "everything of
 * that second" (type and id ''), and a whole-second one passes through unchanged.
 */
function eventsQuery(q: EventQuery, kinds: string[]): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = { limit: q.limit, types: kinds };
  const since = sinceInUnit(q.since, 1000);
  if (since != null) out.since = storeTime(since);
  if (q.after) {
    const ms = Date.parse(q.after.at);
    const whole = ms % 1000 === 0;
    out.after_time = storeTime(Math.floor(ms / 1000));
    out.after_type = whole ? q.after.kind : '';
    out.after_id = whole ? q.after.id : '';
  }
  return out;
}

function toEvent(SOURCE: SourceName, scale: { min: number; max: number }, e: JsonObject, requesterId: string): Slot<SourceEvent> {
  const kind = e.type;
  if (!isEventKind(kind) || !kindsWanted(HELPDESK_EVENTS, null).includes(kind)) return badRow(SOURCE, 'event', 'type is not a helpdesk event type');
  const at = instantFromIso(e.time);
  if (!at) return badRow(SOURCE, 'event', 'time is not an ISO-8601 time');
  const id = typeof e.id === 'string' && e.id !== '' ? e.id : null;
  if (!id) return badRow(SOURCE, 'event', 'id is missing');
  const score = canonicalScore(e.score, scale);
  if (score instanceof Error) return badRow(SOURCE, 'event', score.message);
  return {
    kind,
    at,
    id,
    recordId: requesterId,
    refId: wireId(e.ticket_id),
    title: typeof e.subject === 'string' ? e.subject : null,
    status: text(e.status),
    channel: text(e.channel),
    score,
  };
}

/** The identity view of one user; null when it cannot be placed in the feed (no id or no updated_at). */
function toScanned(SOURCE: SourceName, u: JsonObject): ScannedRecord | null {
  const id = wireId(u.id);
  const updatedAt = instantFromIso(u.updated_at);
  if (!id || !updatedAt) return null;
  const identifiers: RawIdentifier[] = [];
  const email = text(u.email);
  const phone = text(u.phone);
  if (email) identifiers.push({ kind: 'EMAIL', value: email });
  if (phone) identifiers.push({ kind: 'PHONE', value: phone });
  const record: ScannedRecord = { source: SOURCE, recordId: id, updatedAt, identifiers, traits: { name: canonicalText(text(u.name)) } };
  // Zendesk keeps a deleted user, inactive, until it is deleted for good, and its exports carry it
  // so (developer.zendesk.com/api-reference/ticketing/users/users/#delete-user): its links end.
  if (u.active === false) record.deleted = true;
  return record;
}

// The work of the batch reads is in module-level functions that take what a closure would have
// captured: V8 holds a function's optimized code only weakly while no closure of it is alive, so
// a closure written inside a connector method loses it at any major GC between requests and
// re-compiles on the next ones; module-level functions keep theirs. Per call they are bound to
// what they need (the chunk comes last) rather than wrapped in an arrow: a bound function has no
// code of its own, while a forwarding arrow gets optimized with its callee inlined, async ones
// too, and loses that code again.

/** One GET of a chunk (`params` and the chunk as `idsParam`): its `key` array, as one page for `chunked`. */
async function getPage(
  SOURCE: SourceName,
  transport: HttpTransport,
  path: string,
  key: string,
  params: Query | undefined,
  idsParam: string,
  chunk: string[],
): Promise<JsonObject[][]> {
  return [objects(SOURCE, await transport.getJson(path, { ...params, [idsParam]: chunk }), key, `GET ${path}`)];
}

/** The listing one chunk of requesters' tickets come from, in the connector's dialect (see zendesk.ts). */
function ticketListing(api: 'gateway' | 'zendesk', reads: 'search' | 'requested', chunk: string[]): Listing {
  if (api === 'gateway') return { path: PATH.tickets, key: 'tickets', params: { requester_ids: chunk } };
  if (reads === 'search')
    return { path: ZENDESK_PATH.searchExport, key: 'results', params: { query: requesterQuery(chunk), 'filter[type]': 'ticket', include: 'metric_sets' } };
  return { path: ZENDESK_PATH.requested, key: 'tickets', params: { include: 'metric_sets' }, segments: { id: chunk[0] } };
}

/**
 * Every page of one chunk's ticket listing (`listingPages`), as `chunked` takes a chunk's answer.
 * Zendesk answers a user's requested tickets 404 RecordNotFound for a user it does not have: that
 * requester has no tickets, as an unknown id has none in the other listings.
 */
async function getTicketPages(
  SOURCE: SourceName,
  transport: HttpTransport,
  api: 'gateway' | 'zendesk',
  reads: 'search' | 'requested',
  chunk: string[],
): Promise<ListingPage[]> {
  const listing = ticketListing(api, reads, chunk);
  try {
    return await listingPages(SOURCE, transport, listing);
  } catch (e) {
    if (listing.segments && isSourceError(e) && e.code === 'SOURCE_BAD_RESPONSE' && e.detail?.status === 404) return [];
    throw e;
  }
}

/** The requesters a batch past `requestedPerLevel` leaves unasked, each with the refusal that says why (none when within it). */
function unaskedRequesters(SOURCE: SourceName, unasked: readonly string[], wanted: number, limit: number): Map<string, SourceError> {
  const out = new Map<string, SourceError>();
  if (unasked.length === 0) return out;
  const refusal = new SourceRefusal(
    SOURCE,
    `${SOURCE} lists one requester's tickets a call (ticketReads 'requested'): a batch of ${wanted} requesters is over its requestedPerLevel (${limit}), so ${unasked.length} were not asked`,
    { requesters: wanted, requestedPerLevel: limit },
  );
  for (const id of unasked) out.set(id, refusal);
  return out;
}

/** Each id's requester, null for one the helpdesk does not have, its chunk's error for one whose chunk failed. */
function requestersOf(SOURCE: SourceName, region: CountryCode, ids: readonly string[], users: UsersById): Array<Slot<SupportRequester> | null> {
  const answers: Array<Slot<SupportRequester> | null> = [];
  for (const id of ids) {
    const u = users.byId.get(id);
    answers.push(users.failed.get(id) ?? (u ? toRequester(SOURCE, region, u, id) : null));
  }
  return answers;
}

/** show_many's users by id, and the ids whose chunk failed. */
interface UsersById {
  byId: Map<string, JsonObject>;
  failed: Chunked<string, unknown>['failed'];
}

const requesterOf = (row: JsonObject) => wireId(row.requester_id);

/** The pause a failed call asked for (a 429 or 503's Retry-After, or the transport's pause it left), in seconds; null for any other failure. */
function retryAfterOf(e: unknown): number | null {
  if (!isSourceError(e) || e.code !== 'SOURCE_UNAVAILABLE') return null;
  const s = e.detail?.retryAfterSeconds;
  return typeof s === 'number' && s > 0 ? s : null;
}

/**
 * Waits a scan sleeps through; `close()` ends them, so a connector closed mid-wait does not hold
 * its process, and so does the scan's `signal` (the resolution reading it was asked to stop).
 */
class Waits {
  private readonly pending = new Set<() => void>();
  private closed = false;

  /** Resolves after `ms`; false when the connector closed or `signal` aborted first (the caller then gives up). */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closed || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (slept: boolean) => {
        clearTimeout(timer);
        this.pending.delete(end);
        signal?.removeEventListener('abort', end);
        resolve(slept);
      };
      const end = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      this.pending.add(end);
      signal?.addEventListener('abort', end, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    for (const end of [...this.pending]) end();
  }
}

export function createHelpdeskConnector(config: HelpdeskConnectorConfig, observer: SourceObserver): HelpdeskConnector {
  const SOURCE: SourceName = config.name ?? DEFAULT_NAME;
  const region = config.defaultRegion ?? DEFAULT_PHONE_REGION;
  const scale = config.satisfactionScale ?? SATISFACTION_SCALE;
  const { transport, maxBatch, defaultPage } = connectorTransport(
    SOURCE,
    config,
    { maxIds: API_MAX_IDS, maxPage: API_MAX_PAGE, observer },
    { authorization: `Bearer ${config.token}` },
  );

  // The incremental export on a transport of its own: the pause its 10-a-minute limit asks for
  // (Retry-After) is that endpoint's, and must not refuse the show_many, tickets and events reads
  // that requests wait for, whose own limits are far higher.
  const exporter = connectorTransport(SOURCE, config, { maxIds: API_MAX_IDS, maxPage: API_MAX_PAGE, observer }, { authorization: `Bearer ${config.token}` }).transport;
  const waits = new Waits();
  const api = config.api ?? 'gateway';
  const reads = config.ticketReads ?? 'search';
  const requestedPerLevel = config.requestedPerLevel ?? DEFAULT_REQUESTED_PER_LEVEL;
  const oneRequesterACall = api === 'zendesk' && reads === 'requested';
  // Zendesk's Search Export has a limit of its own (100 calls a minute, counted in the account's
  // too): on a transport of its own, as the incremental export, so the pause its 429 asks for does
  // not refuse show_many meanwhile.
  const ticketTransport =
    api === 'zendesk' && reads === 'search'
      ? connectorTransport(SOURCE, config, { maxIds: API_MAX_IDS, maxPage: API_MAX_PAGE, observer }, { authorization: `Bearer ${config.token}` }).transport
      : transport;

  /**
   * Each key's tickets: one observed call per chunk of requesters (per requester with
   * `ticketReads: 'requested'`, where a batch past `requestedPerLevel` asks only that many, checked
   * before any call: the others answer a SourceRefusal saying why, the asked ones their tickets).
   */
  async function readTickets(operation: string, ids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<Ticket>>> {
    const wanted = [...new Set(ids.filter(isUserId))];
    const asked = oneRequesterACall ? wanted.slice(0, requestedPerLevel) : wanted;
    const unasked = unaskedRequesters(SOURCE, wanted.slice(asked.length), wanted.length, requestedPerLevel);
    const read: Chunked<string, ListingPage> = asked.length
      ? await chunked(
          observer,
          { source: SOURCE, operation, account },
          asked,
          oneRequesterACall ? 1 : maxBatch,
          getTicketPages.bind(null, SOURCE, ticketTransport, api, reads) as (chunk: string[]) => Promise<ListingPage[]>,
        )
      : { answers: [], failed: NONE_FAILED };
    // Tickets are placed by their requester_id, never by position; one without it belongs to no key.
    const byRequester = groupByKey(
      read.answers.flatMap((p) => p.rows),
      requesterOf,
      toTicket.bind(null, SOURCE, scale, solvedTimes(read.answers)),
    );
    // Zendesk's listings order by creation, oldest first: each list newest first, as the helpdesk's own.
    if (api === 'zendesk') for (const list of byRequester.values()) list.sort(newestFirst);
    return listsOf(ids, byRequester, unasked.size ? new Map([...read.failed, ...unasked]) : read.failed);
  }

  /** show_many for unique valid ids, chunked; answers the raw users by id, and the ids whose chunk failed. */
  async function fetchUsers(operation: string, ids: readonly string[], account?: SourceAccount): Promise<UsersById> {
    const wanted = [...new Set(ids.filter(isUserId))];
    const { answers: pages, failed } = await chunked(
      observer,
      { source: SOURCE, operation, account },
      wanted,
      maxBatch,
      getPage.bind(null, SOURCE, transport, PATH.users, 'users', undefined, 'ids') as (chunk: string[]) => Promise<JsonObject[][]>,
    );
    const byId = new Map<string, JsonObject>();
    for (const u of pages.flat()) {
      const id = wireId(u.id);
      // A user without an id cannot be matched to a key; it answers nowhere.
      if (id) byId.set(id, u);
    }
    return { byId, failed };
  }

  return {
    name: SOURCE,
    maxBatch,

    async requestersByIds(ids, account) {
      const users = await fetchUsers('requestersByIds', ids, account);
      return requestersOf(SOURCE, region, ids, users);
    },

    ticketsByRecordIds(ids, account) {
      return readTickets('ticketsByRecordIds', ids, account);
    },

    /**
     * Gateway: one GET per chunk of requesters; the helpdesk cuts each requester's list to `limit`
     * after the position. Zendesk (no event feed per requester): the same calls as the tickets,
     * each requester's events derived from its tickets and cut here.
     */
    async eventsByRecordIds(ids, query: EventQuery, account) {
      checkEventQuery(SOURCE, query);
      const kinds = kindsWanted(HELPDESK_EVENTS, query.kinds);
      const wanted = [...new Set(ids.filter(isUserId))];
      if (kinds.length === 0 || wanted.length === 0) return ids.map(() => []);
      if (api === 'zendesk') {
        const tickets = await readTickets('eventsByRecordIds', ids, account);
        return tickets.map((list) => (isSourceError(list) ? list : eventsOfTickets(list, query, kinds)));
      }
      const params = eventsQuery(query, kinds);
      const { answers: pages, failed } = await chunked(
        observer,
        { source: SOURCE, operation: 'eventsByRecordIds', account },
        wanted,
        maxBatch,
        getPage.bind(null, SOURCE, transport, PATH.events, 'events', params, 'requester_ids') as (chunk: string[]) => Promise<JsonObject[][]>,
      );
      // Placed by requester_id, never by position; an event without one belongs to no key.
      return listsOf(ids, groupByKey(pages.flat(), requesterOf, toEvent.bind(null, SOURCE, scale)), failed);
    },

    async scan(cursor, pageSize, signal) {
      const perPage = Math.min(API_MAX_PAGE, Math.max(1, Math.floor(pageSize ?? defaultPage)));
      let serverCursor: string | null = null;
      if (cursor != null) {
        if (!cursor.startsWith(CURSOR_PREFIX)) throw new Error('support scan: the cursor was not made by this connector');
        serverCursor = cursor.slice(CURSOR_PREFIX.length);
      }
      const request = `GET ${PATH.export}`;
      const query = serverCursor ? { cursor: serverCursor, per_page: perPage } : { start_time: 0, per_page: perPage };
      // A 429 with Retry-After is waited out (at most SCAN_WAITS times a page): the scan is a batch
      // job, and a stopped scan stopped the whole resolution run with it. A stop (`signal`) or a
      // close ends the wait at once, with the error it waited on.
      let body: JsonObject;
      for (let waited = 0; ; waited++) {
        try {
          body = await observer.call({ source: SOURCE, operation: 'scan', batchSize: perPage }, () => exporter.getJson(PATH.export, query));
          break;
        } catch (e) {
          const seconds = retryAfterOf(e);
          if (seconds === null || seconds > SCAN_WAIT_MAX_SECONDS || waited >= SCAN_WAITS || !(await waits.sleep(seconds * 1000 + 100, signal))) throw e;
        }
      }
      const users = objects(SOURCE, body, 'users', request);
      if (typeof body.end_of_stream !== 'boolean') throw badResponse(SOURCE, request, '"end_of_stream" is not a boolean');
      const after = body.after_cursor;
      if (after != null && typeof after !== 'string') throw badResponse(SOURCE, request, '"after_cursor" is not a string');
      // A user that cannot be placed (no id, no updated_at) is skipped: the export cursor moves past it regardless.
      const records = users.map((x) => toScanned(SOURCE, x)).filter((r): r is ScannedRecord => r !== null);
      const next = after ?? serverCursor;
      return { records, cursor: next ? CURSOR_PREFIX + next : null, done: body.end_of_stream, malformed: users.length - records.length } satisfies ScanPage;
    },

    /** Every key or none: a key answered null here is a user the helpdesk no longer has, never a chunk that failed. */
    async scanRecords(recordIds) {
      const users = await fetchUsers('scanRecords', recordIds);
      noneFailed(users.failed);
      return recordIds.map((id) => {
        const u = users.byId.get(id);
        return u ? (toScanned(SOURCE, u) ?? unreadableRecord(SOURCE)) : null;
      });
    },

    async health() {
      if (api === 'zendesk') {
        // Zendesk has no ping: the token's own user answers whenever the API and the token do.
        const body = await observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => transport.getJson(ZENDESK_PATH.me));
        const user = body.user;
        if (user === null || typeof user !== 'object' || Array.isArray(user)) throw badResponse(SOURCE, `GET ${ZENDESK_PATH.me}`, '"user" is not an object');
        return;
      }
      const body = await observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => transport.getJson(PATH.ping));
      if (body.ok !== true) throw badResponse(SOURCE, `GET ${PATH.ping}`, '"ok" is not true');
    },

    async close() {
      // A scan waiting out a Retry-After gives up now, with the error it waited on.
      waits.close();
    },
  };
}
