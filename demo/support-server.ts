/**
 * The stand-in support helpdesk: a Zendesk-like JSON API over the `support_users` and
 * `support_tickets` tables (demo/schema.ts). Wire format: demo/SOURCES.md, "Support helpdesk API".
 * It speaks both of the helpdesk kind's dialects at once: this helpdesk's own ticket and event
 * listings, and Zendesk's (the Search Export, a user's requested tickets, `users/me`), which write
 * tickets as Zendesk does (no `solved_at`: a metric set carries it).
 *
 * One knex per server; every query is an indexed lookup (primary key, requester index, or the
 * (updated_at, id) index for the incremental export) with bound parameters only.
 */
import type { Knex } from 'knex';
import type { StoreConnection as SqlConnection } from './store';
import { resolveStore, startDemoHttpServer, type DemoAnswer, type DemoHttpServer, type Faults } from './faults';

export interface SupportServerOptions {
  /** The store holding the support tables: an open knex (borrowed) or a connection (owned, closed with the server). */
  db: Knex | SqlConnection;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The API token clients must send as `Authorization: Bearer <token>`. */
  token: string;
  /**
   * How ratings go out. `scale` (default): the stored 1..5 as a number, a helpdesk rating on a
   * five-point scale. `zendesk`: as Zendesk's Tickets API writes them (its CSAT is binary): the
   * score is the string `good` (stored 4 or 5) or `bad` (1 to 3), and an unrated ticket carries
   * `{"score":"offered"}` once solved (the survey went out) or `{"score":"unoffered"}` before
   * (developer.zendesk.com/api-reference/ticketing/ticket-management/satisfaction_ratings/).
   */
  ratings?: 'scale' | 'zendesk';
  /**
   * Zendesk's rate limit of the incremental exports: at most `requests` calls per window of
   * `windowMs` (Zendesk: 10 a minute, developer.zendesk.com/api-reference/ticketing/ticket-management/incremental_exports/);
   * past it `429` with `Retry-After` (whole seconds until the window frees a call), as its other
   * limits answer. Off when absent; the other endpoints are never limited by it.
   */
  exportLimit?: { requests: number; windowMs: number };
  /**
   * Zendesk's rate limit of the Search Export: at most `requests` calls per window of `windowMs`
   * (Zendesk: 100 a minute, developer.zendesk.com/api-reference/ticketing/ticket-management/search/#export-search-results);
   * past it `429` with `Retry-After`, as `exportLimit`. Off when absent.
   */
  searchLimit?: { requests: number; windowMs: number };
  /**
   * `zendesk`: only Zendesk's own endpoints answer; this helpdesk's (`tickets?requester_ids`,
   * `requesters/events`, `ping`) answer 404 InvalidEndpoint, as a real Zendesk does. Default: both.
   */
  only?: 'zendesk';
  faults?: Faults;
}

export type SupportServer = DemoHttpServer;

const MAX_IDS = 100;
const MAX_PER_PAGE = 1000;
/** Zendesk's cursor pagination: `page[size]` at most 100 (developer.zendesk.com, api-reference/introduction/pagination). */
const MAX_PAGE_SIZE = 100;
const MAX_EVENTS_PER_REQUESTER = 1000;
/** The Search Export's `page[size]`: at most 1000 (Zendesk recommends 100, its default here). */
const MAX_SEARCH_PAGE = 1000;
/** `GET /api/v2/users/{id}/tickets/requested`, the one templated path. */
/** This helpdesk's own endpoints, which a real Zendesk does not have (`only: 'zendesk'` answers them 404). */
const NOT_ZENDESK: ReadonlySet<string> = new Set(['/api/v2/tickets', '/api/v2/requesters/events', '/api/v2/ping']);
const REQUESTED = /^\/api\/v2\/users\/(\d{1,16})\/tickets\/requested$/;
const EVENT_TYPES = ['ticket_opened', 'ticket_rated', 'ticket_solved'] as const;
type EventType = (typeof EVENT_TYPES)[number];
/** The store's time format, `2024-03-01T08:15:00Z`: fixed width, so text order is time order. */
const STORE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

interface UserRow {
  id: number | string;
  name: string | null;
  email: string | null;
  phone: string | null;
  created_at: string;
  updated_at: string;
  /** Absent in a store written before the column (every user active then). */
  active?: boolean | number | null;
}

interface TicketRow {
  id: number | string;
  requester_id: number | string;
  subject: string;
  status: string;
  priority: string | null;
  channel: string;
  satisfaction_score: number | null;
  created_at: string;
  updated_at: string;
  solved_at: string | null;
}

const error = (status: number, error: string, description?: string): DemoAnswer => ({
  status,
  body: description ? { error, description } : { error },
});
const invalid = (description: string) => error(400, 'InvalidValue', description);

function userJson(r: UserRow) {
  return {
    id: Number(r.id),
    name: r.name,
    email: r.email,
    phone: r.phone,
    created_at: r.created_at,
    updated_at: r.updated_at,
    // Zendesk's `active`: false once the user is deleted (it stays, inactive, until deleted for good).
    active: r.active == null ? true : Boolean(Number(r.active)),
  };
}

/** Zendesk's binary rating for a stored 1..5 (see `ratings`). */
const goodOrBad = (score: number) => (score >= 4 ? 'good' : 'bad');

/** A ticket's `satisfaction_rating` as the server's `ratings` mode writes it. */
function ratingJson(r: TicketRow, ratings: 'scale' | 'zendesk') {
  if (ratings === 'scale') return r.satisfaction_score == null ? null : { score: Number(r.satisfaction_score) };
  if (r.satisfaction_score == null) return { score: r.solved_at ? 'offered' : 'unoffered' };
  return { id: Number(r.id), score: goodOrBad(Number(r.satisfaction_score)), comment: null };
}

function ticketJson(r: TicketRow, ratings: 'scale' | 'zendesk') {
  return {
    id: Number(r.id),
    requester_id: Number(r.requester_id),
    subject: r.subject,
    status: r.status,
    priority: r.priority,
    via: { channel: r.channel },
    satisfaction_rating: ratingJson(r, ratings),
    created_at: r.created_at,
    updated_at: r.updated_at,
    solved_at: r.solved_at,
  };
}

/** A ticket as Zendesk's Tickets API writes it: no `solved_at` (its metric set has it). */
function zendeskTicketJson(r: TicketRow, ratings: 'scale' | 'zendesk') {
  const { solved_at: _solved, ...ticket } = ticketJson(r, ratings);
  return ticket;
}

/** The metric set Zendesk sideloads with a ticket (`include=metric_sets`): here only what the stand-in stores. */
function metricSetJson(r: TicketRow) {
  return { id: Number(r.id), ticket_id: Number(r.id), created_at: r.created_at, updated_at: r.updated_at, solved_at: r.solved_at };
}

interface EventJson {
  requester_id: number;
  type: EventType;
  id: string;
  time: string;
  ticket_id: number;
  subject: string;
  status: string;
  channel: string;
  score: number | string | null;
}

/** The events one ticket stands for: opened, solved (when solved) and rated (when rated; the helpdesk stamps a rating with the ticket's update time). */
function ticketEvents(r: TicketRow, ratings: 'scale' | 'zendesk'): EventJson[] {
  const base = { requester_id: Number(r.requester_id), id: String(r.id), ticket_id: Number(r.id), subject: r.subject, status: r.status, channel: r.channel, score: null };
  const out: EventJson[] = [{ ...base, type: 'ticket_opened', time: r.created_at }];
  if (r.solved_at) out.push({ ...base, type: 'ticket_solved', time: r.solved_at });
  if (r.satisfaction_score != null) {
    const score = Number(r.satisfaction_score);
    out.push({ ...base, type: 'ticket_rated', time: r.updated_at, score: ratings === 'zendesk' ? goodOrBad(score) : score });
  }
  return out;
}

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Newest first; then type, then id shorter-first-then-text (numeric order for ticket ids). */
function eventOrder(a: { time: string; type: string; id: string }, b: { time: string; type: string; id: string }): number {
  return text(b.time, a.time) || text(a.type, b.type) || a.id.length - b.id.length || text(a.id, b.id);
}

/** `1,2,3` to ids; a string naming why when the list is not acceptable. */
function parseIds(raw: string | null): number[] | string {
  if (!raw) return 'ids is required';
  const parts = raw.split(',').filter((p) => p !== '');
  if (parts.length === 0) return 'ids is required';
  if (parts.length > MAX_IDS) return `Too many ids (max ${MAX_IDS})`;
  const ids: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,16}$/.test(p)) return 'ids must be integers';
    ids.push(Number(p));
  }
  return [...new Set(ids)];
}

/** The export cursor: the (updated_at, id) of the last user handed out. */
interface ExportCursor {
  u: string;
  i: number;
}

function encodeCursor(c: ExportCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

/** The tickets listing's page cursor: an opaque position in the listing. */
function encodeOffset(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeOffset(raw: string): number | null {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return Number.isSafeInteger(c?.o) && c.o >= 0 ? c.o : null;
  } catch {
    return null;
  }
}

function decodeCursor(raw: string): ExportCursor | null {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return typeof c?.u === 'string' && Number.isSafeInteger(c?.i) ? c : null;
  } catch {
    return null;
  }
}

/** Unix seconds to the store's time format (`2024-03-01T08:15:00Z`), which sorts as text. */
function storeTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * An endpoint's own rate limit, as Zendesk answers one: a 429 with Retry-After (whole seconds until
 * the window frees a call) and its error body when `limit` calls of the window are spent, else null
 * (and the call is counted). No limit: never limited.
 */
function rateLimiter(limit: { requests: number; windowMs: number } | undefined, description: string): () => DemoAnswer | null {
  /** When each call of the current window was answered. */
  const calls: number[] = [];
  return () => {
    if (!limit) return null;
    const now = Date.now();
    while (calls.length && calls[0] <= now - limit.windowMs) calls.shift();
    if (calls.length >= limit.requests) {
      const seconds = Math.max(1, Math.ceil((calls[0] + limit.windowMs - now) / 1000));
      return { status: 429, headers: { 'retry-after': String(seconds) }, body: { error: 'APIRateLimitExceeded', description } };
    }
    calls.push(now);
    return null;
  };
}

/** A Zendesk listing's `page[size]` (1..max, default `fallback`), or the 400 that refuses it. */
function pageSize(query: URLSearchParams, max: number, fallback: number): number | DemoAnswer {
  const raw = query.get('page[size]') ?? String(fallback);
  if (!/^\d{1,4}$/.test(raw) || +raw < 1 || +raw > max) return invalid(`page[size] must be 1..${max}`);
  return Number(raw);
}

/** A listing's `page[after]` as an offset (0 when absent), or the 400 that refuses it. */
function pageAfter(query: URLSearchParams): number | DemoAnswer {
  const raw = query.get('page[after]');
  if (!raw) return 0;
  const o = decodeOffset(raw);
  return o === null ? invalid('Invalid page[after]') : o;
}

/**
 * One page of a Zendesk ticket listing over `rows` (already ordered, one more than the page asked
 * for when there are more): the tickets as Zendesk writes them under `key`, Zendesk's cursor
 * `meta` and `links`, and the metric sets when the query asks `include=metric_sets`.
 */
function zendeskListing(key: string, rows: TicketRow[], size: number, offset: number, query: URLSearchParams, path: string, ratings: 'scale' | 'zendesk'): DemoAnswer {
  const page = rows.slice(0, size);
  const hasMore = rows.length > size;
  const after = page.length > 0 ? encodeOffset(offset + page.length) : null;
  const next = new URLSearchParams(query);
  if (after) next.set('page[after]', after);
  const includes = (query.get('include') ?? '').split(',');
  return {
    status: 200,
    body: {
      [key]: page.map((r) => zendeskTicketJson(r, ratings)),
      ...(includes.includes('metric_sets') ? { metric_sets: page.map(metricSetJson) } : {}),
      meta: { has_more: hasMore, after_cursor: after, before_cursor: null },
      links: { next: hasMore ? `${path}?${next.toString()}` : null, prev: null },
    },
  };
}

/** The requester ids of a Search Export query that names only `requester:<id>` terms (repeated: OR), or the 400 Zendesk's search answers. */
function searchedRequesters(query: URLSearchParams): number[] | DemoAnswer {
  const searchError = (description: string): DemoAnswer => error(400, 'invalid', description);
  if (query.get('filter[type]') !== 'ticket') return searchError('filter[type] must be ticket (the stand-in exports tickets only)');
  const terms = (query.get('query') ?? '').split(/\s+/).filter((t) => t !== '');
  if (terms.some((t) => /^type:/i.test(t))) return searchError('Searches with type in the query string are not supported by the export endpoint: use filter[type]');
  const ids: number[] = [];
  for (const t of terms) {
    const m = /^requester:(\d{1,16})$/.exec(t);
    if (!m) return searchError('the stand-in searches requester:<user id> terms only');
    ids.push(Number(m[1]));
  }
  if (ids.length === 0) return searchError('query is required');
  if (ids.length > MAX_IDS) return searchError(`Too many terms (the stand-in takes at most ${MAX_IDS})`);
  return [...new Set(ids)];
}

export async function startSupportServer(options: SupportServerOptions): Promise<SupportServer> {
  const { knex, owned } = resolveStore(options.db);
  const ratings = options.ratings ?? 'scale';
  const exportLimited = rateLimiter(options.exportLimit, 'Number of allowed incremental export API requests per minute exceeded');
  const searchLimited = rateLimiter(options.searchLimit, 'Number of allowed search export API requests per minute exceeded');
  const ticketOrder = [
    { column: 'created_at', order: 'asc' },
    { column: 'id', order: 'asc' },
  ] as const;

  /** Zendesk's list of one user's requested tickets: 404 RecordNotFound for a user it does not have. */
  async function requestedTickets(userId: number, query: URLSearchParams, path: string): Promise<DemoAnswer> {
    const size = pageSize(query, MAX_PAGE_SIZE, MAX_PAGE_SIZE);
    if (typeof size !== 'number') return size;
    const offset = pageAfter(query);
    if (typeof offset !== 'number') return offset;
    const user = await knex('support_users').where({ id: userId }).first('id');
    if (!user) return error(404, 'RecordNotFound', 'Not found');
    const rows: TicketRow[] = await knex('support_tickets')
      .where({ requester_id: userId })
      .orderBy([...ticketOrder])
      .offset(offset)
      .limit(size + 1);
    return zendeskListing('tickets', rows, size, offset, query, path, ratings);
  }

  const routes: Record<string, (query: URLSearchParams) => Promise<DemoAnswer>> = {
    '/api/v2/ping': async () => ({ status: 200, body: { ok: true } }),

    // Zendesk's: the token's own user (the stand-in's token is an admin's).
    '/api/v2/users/me': async () => ({ status: 200, body: { user: { id: 1, name: 'c360', role: 'admin', active: true } } }),

    // Zendesk's Search Export for tickets: `requester:` terms (OR), ordered by created_at only, cursor pages.
    '/api/v2/search/export': async (query) => {
      const limited = searchLimited();
      if (limited) return limited;
      const ids = searchedRequesters(query);
      if (!Array.isArray(ids)) return ids;
      const size = pageSize(query, MAX_SEARCH_PAGE, MAX_PAGE_SIZE);
      if (typeof size !== 'number') return size;
      const offset = pageAfter(query);
      if (typeof offset !== 'number') return offset;
      const rows: TicketRow[] = await knex('support_tickets')
        .whereIn('requester_id', ids)
        .orderBy([...ticketOrder])
        .offset(offset)
        .limit(size + 1);
      return zendeskListing('results', rows, size, offset, query, '/api/v2/search/export', ratings);
    },

    '/api/v2/users/show_many': async (query) => {
      const ids = parseIds(query.get('ids'));
      if (typeof ids === 'string') return invalid(ids);
      const rows: UserRow[] = await knex('support_users').whereIn('id', ids).orderBy('id');
      return { status: 200, body: { users: rows.map(userJson) } };
    },

    '/api/v2/tickets': async (query) => {
      const ids = parseIds(query.get('requester_ids'));
      if (typeof ids === 'string') return invalid(ids.replace(/^ids/, 'requester_ids'));
      // Cursor pagination as Zendesk's: page[size] (≤ 100, the default), page[after] from meta.after_cursor.
      const sizeRaw = query.get('page[size]') ?? String(MAX_PAGE_SIZE);
      if (!/^\d{1,3}$/.test(sizeRaw) || +sizeRaw < 1 || +sizeRaw > MAX_PAGE_SIZE) return invalid(`page[size] must be 1..${MAX_PAGE_SIZE}`);
      const size = Number(sizeRaw);
      const afterRaw = query.get('page[after]');
      let offset = 0;
      if (afterRaw) {
        const o = decodeOffset(afterRaw);
        if (o === null) return invalid('Invalid page[after]');
        offset = o;
      }
      const rows: TicketRow[] = await knex('support_tickets')
        .whereIn('requester_id', ids)
        .orderBy([
          { column: 'requester_id', order: 'asc' },
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .offset(offset)
        .limit(size + 1);
      const page = rows.slice(0, size);
      const hasMore = rows.length > size;
      const after = page.length > 0 ? encodeOffset(offset + page.length) : null;
      const before = page.length > 0 && offset > 0 ? encodeOffset(offset) : null;
      const link = (cursor: string | null, dir: string) => (cursor ? `/api/v2/tickets?requester_ids=${ids.join(',')}&page[size]=${size}&page[${dir}]=${cursor}` : null);
      return {
        status: 200,
        body: {
          tickets: page.map((r) => ticketJson(r, ratings)),
          meta: { has_more: hasMore, after_cursor: after, before_cursor: before },
          links: { next: hasMore ? link(after, 'after') : null, prev: link(before, 'before') },
        },
      };
    },

    '/api/v2/requesters/events': async (query) => {
      const ids = parseIds(query.get('requester_ids'));
      if (typeof ids === 'string') return invalid(ids.replace(/^ids/, 'requester_ids'));
      const limitRaw = query.get('limit') ?? '100';
      if (!/^\d{1,4}$/.test(limitRaw) || +limitRaw < 1 || +limitRaw > MAX_EVENTS_PER_REQUESTER) return invalid(`limit must be 1..${MAX_EVENTS_PER_REQUESTER}`);
      const limit = Number(limitRaw);
      const since = query.get('since');
      if (since != null && !STORE_TIME.test(since)) return invalid('since must be a time such as 2024-03-01T08:15:00Z');
      const typesRaw = query.get('types');
      const types = typesRaw == null ? [...EVENT_TYPES] : typesRaw.split(',').filter((t) => t !== '');
      if (!types.every((t) => (EVENT_TYPES as readonly string[]).includes(t))) return invalid(`types must be among ${EVENT_TYPES.join(', ')}`);
      // The position of the last event the caller has: events strictly after it in the order come back.
      const after = { time: query.get('after_time'), type: query.get('after_type') ?? '', id: query.get('after_id') ?? '' };
      if (after.time != null && !STORE_TIME.test(after.time)) return invalid('after_time must be a time such as 2024-03-01T08:15:00Z');
      if (!/^[a-z_]{0,32}$/.test(after.type) || after.id.length > 64) return invalid('after_type or after_id is malformed');

      const rows: TicketRow[] = await knex('support_tickets').whereIn('requester_id', ids);
      const byRequester = new Map<number, EventJson[]>();
      for (const r of rows) {
        for (const e of ticketEvents(r, ratings)) {
          if (!types.includes(e.type)) continue;
          if (since != null && e.time < since) continue;
          if (after.time != null && eventOrder(e, { time: after.time, type: after.type, id: after.id }) <= 0) continue;
          let list = byRequester.get(e.requester_id);
          if (!list) byRequester.set(e.requester_id, (list = []));
          list.push(e);
        }
      }
      const events = ids.flatMap((id) => (byRequester.get(id) ?? []).sort(eventOrder).slice(0, limit));
      return { status: 200, body: { events } };
    },

    '/api/v2/incremental/users/cursor': async (query) => {
      const limited = exportLimited();
      if (limited) return limited;
      const perPageRaw = query.get('per_page') ?? '100';
      if (!/^\d{1,4}$/.test(perPageRaw) || +perPageRaw < 1 || +perPageRaw > MAX_PER_PAGE) {
        return invalid(`per_page must be 1..${MAX_PER_PAGE}`);
      }
      const perPage = Number(perPageRaw);
      const cursorRaw = query.get('cursor');
      let q = knex('support_users');
      if (cursorRaw) {
        // The cursor carries the position; start_time is only for the first page.
        const c = decodeCursor(cursorRaw);
        if (!c) return invalid('Invalid cursor');
        // `updated_at >= u` first, so the (updated_at, id) index bounds the range scan.
        q = q.where('updated_at', '>=', c.u).andWhere((w) => w.where('updated_at', '>', c.u).orWhere('id', '>', c.i));
      } else {
        const startRaw = query.get('start_time');
        if (startRaw == null || !/^\d{1,12}$/.test(startRaw)) return invalid('start_time must be unix seconds');
        q = q.where('updated_at', '>=', storeTime(Number(startRaw)));
      }
      const rows: UserRow[] = await q
        .orderBy([
          { column: 'updated_at', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .limit(perPage + 1);
      const page = rows.slice(0, perPage);
      const last = page[page.length - 1];
      return {
        status: 200,
        body: {
          users: page.map(userJson),
          // Like Zendesk, the last page still answers a cursor, so a client can resume later.
          after_cursor: last ? encodeCursor({ u: last.updated_at, i: Number(last.id) }) : cursorRaw || null,
          end_of_stream: rows.length <= perPage,
        },
      };
    },
  };

  return startDemoHttpServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    faults: options.faults,
    onClose: owned ? () => knex.destroy() : undefined,
    handle: async (req) => {
      if (req.headers.authorization !== `Bearer ${options.token}`) return error(401, "Couldn't authenticate you");
      const requested = REQUESTED.exec(req.pathname);
      const route = requested ? (query: URLSearchParams) => requestedTickets(Number(requested[1]), query, req.pathname) : routes[req.pathname];
      if (!route || (options.only === 'zendesk' && NOT_ZENDESK.has(req.pathname))) return error(404, 'InvalidEndpoint', 'Not found');
      if (req.method !== 'GET') return error(405, 'MethodNotAllowed');
      return route(req.query);
    },
  });
}
