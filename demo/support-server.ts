/**
 * The stand-in support helpdesk: a Zendesk-like JSON API over the `support_users` and
 * `support_tickets` tables (demo/schema.ts). Wire format: demo/SOURCES.md, "Support helpdesk API".
 *
 * One knex per server; every query is an indexed lookup (primary key, requester index, or the
 * (updated_at, id) index for the incremental export) with bound parameters only.
 */
import type { Knex } from 'knex';
import type { SqlConnection } from '../src/db';
import { resolveStore, startDemoHttpServer, type DemoAnswer, type DemoHttpServer, type Faults } from './faults';

export interface SupportServerOptions {
  /** The store holding the support tables: an open knex (borrowed) or a connection (owned, closed with the server). */
  db: Knex | SqlConnection;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The API token clients must send as `Authorization: Bearer <token>`. */
  token: string;
  faults?: Faults;
}

export type SupportServer = DemoHttpServer;

const MAX_IDS = 100;
const MAX_PER_PAGE = 1000;

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

function ticketJson(r: TicketRow) {
  return {
    id: Number(r.id),
    requester_id: Number(r.requester_id),
    subject: r.subject,
    status: r.status,
    priority: r.priority,
    via: { channel: r.channel },
    satisfaction_rating: r.satisfaction_score == null ? null : { score: Number(r.satisfaction_score) },
    created_at: r.created_at,
    updated_at: r.updated_at,
    solved_at: r.solved_at,
  };
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
      const rows: TicketRow[] = await knex('support_tickets')
        .whereIn('requester_id', ids)
        .orderBy([
          { column: 'requester_id', order: 'asc' },
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ]);
      return { status: 200, body: { tickets: rows.map(ticketJson) } };
    },

    '/api/v2/incremental/users/cursor': async (query) => {
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
