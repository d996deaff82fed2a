/**
 * The stand-in support helpdesk: a Zendesk-like JSON API over the `support_users` and
 * `support_tickets` tables (demo/schema.ts). Wire format: demo/SOURCES.md, "Support helpdesk API".
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
  faults?: Faults;
}

export type SupportServer = DemoHttpServer;

const MAX_IDS = 100;
const MAX_PER_PAGE = 1000;
/** Zendesk's cursor pagination: `page[size]` at most 100 (developer.zendesk.com, api-reference/introduction/pagination). */
const MAX_PAGE_SIZE = 100;
const MAX_EVENTS_PER_REQUESTER = 1000;
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

export async function startSupportServer(options: SupportServerOptions): Promise<SupportServer> {
  const { knex, owned } = resolveStore(options.db);
  const ratings = options.ratings ?? 'scale';
  /** When each incremental-export call of the current windows was answered (exportLimit). */
  const exportCalls: number[] = [];
  /** A 429 with Retry-After when the export's limit is spent, else null (and the call is counted). */
  function exportLimited(): DemoAnswer | null {
    const limit = options.exportLimit;
    if (!limit) return null;
    const now = Date.now();
    while (exportCalls.length && exportCalls[0] <= now - limit.windowMs) exportCalls.shift();
    if (exportCalls.length >= limit.requests) {
      const seconds = Math.max(1, Math.ceil((exportCalls[0] + limit.windowMs - now) / 1000));
      return {
        status: 429,
        headers: { 'retry-after': String(seconds) },
        body: { error: 'APIRateLimitExceeded', description: 'Number of allowed incremental export API requests per minute exceeded' },
      };
    }
    exportCalls.push(now);
    return null;
  }

  const routes: Record<string, (query: URLSearchParams) => Promise<DemoAnswer>> = {
    '/api/v2/ping': async () => ({ status: 200, body: { ok: true } }),

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
      const route = routes[req.pathname];
      if (!route) return error(404, 'InvalidEndpoint', 'Not found');
      if (req.method !== 'GET') return error(405, 'MethodNotAllowed');
      return route(req.query);
    },
  });
}
