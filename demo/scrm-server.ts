/**
 * The stand-in SCRM: a WeChat official-account style JSON API (plus the SCRM's own extensions)
 * over the `scrm_followers`, `scrm_coupons` and `scrm_group_members` tables (demo/schema.ts).
 * Wire format: demo/SOURCES.md, "SCRM API". As WeChat does, errors are HTTP 200 with a
 * non-zero `errcode`.
 *
 * One knex per server; every query is an indexed lookup (primary key, openid index, or the
 * (updated_at, openid) index for the change feed) with bound parameters only.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { StoreConnection as SqlConnection } from './store';
import { resolveStore, startDemoHttpServer, type DemoAnswer, type DemoHttpServer, type Faults } from './faults';

export interface ScrmServerOptions {
  /** The store holding the SCRM tables: an open knex (borrowed) or a connection (owned, closed with the server). */
  db: Knex | SqlConnection;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  appId: string;
  appSecret: string;
  /** Lifetime of an issued access token (WeChat: 7200). */
  tokenTtlSeconds?: number;
  faults?: Faults;
}

export interface ScrmServer extends DemoHttpServer {
  /** Expires every issued access token now: the next call with one answers errcode 42001. */
  expireTokens(): void;
  /** Access tokens issued so far. */
  tokensIssued(): number;
}

const MAX_OPENIDS = 100;
const MAX_LIMIT = 1000;
const EVENT_TYPES = ['coupon_received', 'coupon_redeemed', 'followed', 'group_joined', 'unfollowed'] as const;
type EventType = (typeof EVENT_TYPES)[number];

interface FollowerRow {
  openid: string;
  unionid: string | null;
  nickname: string | null;
  sex: number;
  city: string | null;
  province: string | null;
  country: string | null;
  subscribe: number;
  subscribe_time: number | string | null;
  unsubscribe_time: number | string | null;
  tagid_list: string;
  bound_phone: string | null;
  member_no: string | null;
  updated_at: number | string;
}

interface CouponRow {
  coupon_id: string;
  openid: string;
  title: string;
  value: string;
  status: string;
  received_at: number | string;
  redeemed_at: number | string | null;
}

interface MemberRow {
  id?: number | string;
  openid: string;
  chat_id: string;
  chat_name: string;
  join_time: number | string;
}

interface EventJson {
  openid: string;
  type: EventType;
  id: string;
  time: number;
  coupon_id?: string;
  title?: string;
  value?: string;
  chat_id?: string;
  chat_name?: string;
}

const text = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Newest first; then type, then id shorter-first-then-text. */
function eventOrder(a: { time: number; type: string; id: string }, b: { time: number; type: string; id: string }): number {
  return b.time - a.time || text(a.type, b.type) || a.id.length - b.id.length || text(a.id, b.id);
}

/** The events-batchget body; a string naming the problem when it is not acceptable. */
function eventsRequest(
  json: unknown,
): { openids: string[]; limit: number; since: number | null; types: string[]; after: { time: number; type: string; id: string } | null } | 'size' | null {
  const openids = openidList(json);
  if (openids === null || openids === 'size') return openids;
  const b = json as { limit?: unknown; since?: unknown; types?: unknown; after?: unknown };
  const limit = b.limit ?? 100;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_LIMIT) return null;
  if (b.since != null && !Number.isSafeInteger(b.since)) return null;
  const types = b.types ?? [...EVENT_TYPES];
  if (!Array.isArray(types) || !types.every((t) => (EVENT_TYPES as readonly unknown[]).includes(t))) return null;
  let after = null;
  if (b.after != null) {
    const a = b.after as { time?: unknown; type?: unknown; id?: unknown };
    if (!Number.isSafeInteger(a.time) || typeof a.type !== 'string' || typeof a.id !== 'string') return null;
    after = { time: a.time as number, type: a.type, id: a.id };
  }
  return { openids, limit: limit as number, since: (b.since as number | null) ?? null, types: types as string[], after };
}

const ok = (body: Record<string, unknown>): DemoAnswer => ({ status: 200, body });
const wxError = (errcode: number, errmsg: string): DemoAnswer => ({ status: 200, body: { errcode, errmsg } });
const badListSize = () => wxError(40032, 'invalid openid list size');
const invalidArgs = () => wxError(40097, 'invalid args');
const num = (v: number | string | null) => (v == null ? null : Number(v));

function followerJson(r: FollowerRow) {
  // WeChat answers only the openid for someone who is not following.
  if (Number(r.subscribe) !== 1) return { subscribe: 0, openid: r.openid };
  return {
    subscribe: 1,
    openid: r.openid,
    nickname: r.nickname ?? '',
    sex: Number(r.sex),
    language: 'zh_CN',
    city: r.city ?? '',
    province: r.province ?? '',
    country: r.country ?? '',
    headimgurl: '',
    subscribe_time: num(r.subscribe_time),
    unionid: r.unionid ?? undefined,
    remark: '',
    groupid: 0,
    tagid_list: r.tagid_list
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '')
      .map(Number),
    subscribe_scene: 'ADD_SCENE_QR_CODE',
    qr_scene: 0,
    qr_scene_str: '',
  };
}

/** The identity-feed item, shared by /scrm/v1/changes and /scrm/v1/profiles/batchget. */
function changeJson(r: FollowerRow) {
  return {
    openid: r.openid,
    unionid: r.unionid,
    bound_phone: r.bound_phone,
    member_no: r.member_no,
    subscribe: Number(r.subscribe),
    updated_at: Number(r.updated_at),
  };
}

/** `{"openids":[…]}` with 1..100 strings, deduplicated; null when the body is not that. */
function openidList(json: unknown): string[] | null | 'size' {
  const list = (json as { openids?: unknown })?.openids;
  if (!Array.isArray(list) || !list.every((o) => typeof o === 'string')) return null;
  if (list.length === 0 || list.length > MAX_OPENIDS) return 'size';
  return [...new Set(list as string[])];
}

interface ChangesCursor {
  u: number;
  o: string;
}

function encodeCursor(c: ChangesCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(raw: string): ChangesCursor | null {
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    return Number.isSafeInteger(c?.u) && typeof c?.o === 'string' ? c : null;
  } catch {
    return null;
  }
}

export async function startScrmServer(options: ScrmServerOptions): Promise<ScrmServer> {
  const { knex, owned } = resolveStore(options.db);
  const ttlSeconds = options.tokenTtlSeconds ?? 7200;
  /** access token → expiry (epoch ms). */
  const tokens = new Map<string, number>();
  let issued = 0;

  type Route = (req: { query: URLSearchParams; json: unknown }) => Promise<DemoAnswer>;

  const followers = (openids: string[]): Promise<FollowerRow[]> => knex('scrm_followers').whereIn('openid', openids).orderBy('openid');

  const authed: Record<string, { method: 'GET' | 'POST'; run: Route }> = {
    '/scrm/v1/ping': { method: 'GET', run: async () => ok({ errcode: 0, errmsg: 'ok' }) },

    '/cgi-bin/user/info/batchget': {
      method: 'POST',
      run: async ({ json }) => {
        const list = (json as { user_list?: unknown })?.user_list;
        if (!Array.isArray(list) || !list.every((u) => typeof u?.openid === 'string')) {
          return wxError(47001, 'data format error');
        }
        if (list.length === 0 || list.length > MAX_OPENIDS) return badListSize();
        const openids = [...new Set(list.map((u: { openid: string }) => u.openid))];
        const rows = await followers(openids);
        return ok({ user_info_list: rows.map(followerJson) });
      },
    },

    '/scrm/v1/coupons/batchget': {
      method: 'POST',
      run: async ({ json }) => {
        const openids = openidList(json);
        if (openids === null) return wxError(47001, 'data format error');
        if (openids === 'size') return badListSize();
        const rows: CouponRow[] = await knex('scrm_coupons')
          .whereIn('openid', openids)
          .orderBy([
            { column: 'openid', order: 'asc' },
            { column: 'received_at', order: 'desc' },
            { column: 'coupon_id', order: 'asc' },
          ]);
        return ok({
          errcode: 0,
          coupons: rows.map((r) => ({
            coupon_id: r.coupon_id,
            openid: r.openid,
            title: r.title,
            value: r.value,
            status: r.status,
            received_at: num(r.received_at),
            redeemed_at: num(r.redeemed_at),
          })),
        });
      },
    },

    '/scrm/v1/groupchats/batchget': {
      method: 'POST',
      run: async ({ json }) => {
        const openids = openidList(json);
        if (openids === null) return wxError(47001, 'data format error');
        if (openids === 'size') return badListSize();
        const rows: MemberRow[] = await knex('scrm_group_members')
          .whereIn('openid', openids)
          .orderBy([
            { column: 'openid', order: 'asc' },
            { column: 'join_time', order: 'asc' },
            { column: 'id', order: 'asc' },
          ]);
        return ok({
          errcode: 0,
          memberships: rows.map((r) => ({
            openid: r.openid,
            chat_id: r.chat_id,
            chat_name: r.chat_name,
            join_time: num(r.join_time),
          })),
        });
      },
    },

    '/scrm/v1/events/batchget': {
      method: 'POST',
      run: async ({ json }) => {
        const req = eventsRequest(json);
        if (req === null) return wxError(47001, 'data format error');
        if (req === 'size') return badListSize();
        const { openids, types } = req;
        const [fs, cs, ms] = await Promise.all([
          types.some((t) => t === 'followed' || t === 'unfollowed') ? followers(openids) : Promise.resolve([] as FollowerRow[]),
          types.some((t) => t.startsWith('coupon_')) ? (knex('scrm_coupons').whereIn('openid', openids) as Promise<CouponRow[]>) : Promise.resolve([] as CouponRow[]),
          types.includes('group_joined') ? (knex('scrm_group_members').whereIn('openid', openids) as Promise<MemberRow[]>) : Promise.resolve([] as MemberRow[]),
        ]);
        const all: EventJson[] = [];
        for (const f of fs) {
          if (f.subscribe_time != null) all.push({ openid: f.openid, type: 'followed', id: f.openid, time: Number(f.subscribe_time) });
          if (f.unsubscribe_time != null) all.push({ openid: f.openid, type: 'unfollowed', id: f.openid, time: Number(f.unsubscribe_time) });
        }
        for (const c of cs) {
          const coupon = { coupon_id: c.coupon_id, title: c.title, value: c.value };
          all.push({ openid: c.openid, type: 'coupon_received', id: c.coupon_id, time: Number(c.received_at), ...coupon });
          if (c.redeemed_at != null) all.push({ openid: c.openid, type: 'coupon_redeemed', id: c.coupon_id, time: Number(c.redeemed_at), ...coupon });
        }
        for (const m of ms) all.push({ openid: m.openid, type: 'group_joined', id: String(m.id), time: Number(m.join_time), chat_id: m.chat_id, chat_name: m.chat_name });
        const byOpenid = new Map<string, EventJson[]>();
        for (const e of all) {
          if (!types.includes(e.type)) continue;
          if (req.since != null && e.time < req.since) continue;
          if (req.after && eventOrder(e, req.after) <= 0) continue;
          let list = byOpenid.get(e.openid);
          if (!list) byOpenid.set(e.openid, (list = []));
          list.push(e);
        }
        return ok({ errcode: 0, events: openids.flatMap((o) => (byOpenid.get(o) ?? []).sort(eventOrder).slice(0, req.limit)) });
      },
    },

    '/scrm/v1/profiles/batchget': {
      method: 'POST',
      run: async ({ json }) => {
        const openids = openidList(json);
        if (openids === null) return wxError(47001, 'data format error');
        if (openids === 'size') return badListSize();
        return ok({ errcode: 0, items: (await followers(openids)).map(changeJson) });
      },
    },

    '/scrm/v1/changes': {
      method: 'GET',
      run: async ({ query }) => {
        const limitRaw = query.get('limit') ?? '100';
        if (!/^\d{1,4}$/.test(limitRaw) || +limitRaw < 1 || +limitRaw > MAX_LIMIT) return invalidArgs();
        const limit = Number(limitRaw);
        const cursorRaw = query.get('cursor');
        let q = knex('scrm_followers');
        if (cursorRaw) {
          const c = decodeCursor(cursorRaw);
          if (!c) return invalidArgs();
          // `updated_at >= u` first, so the (updated_at, openid) index bounds the range scan.
          q = q.where('updated_at', '>=', c.u).andWhere((w) => w.where('updated_at', '>', c.u).orWhere('openid', '>', c.o));
        } else {
          const since = query.get('since') ?? '0';
          if (!/^\d{1,12}$/.test(since)) return invalidArgs();
          q = q.where('updated_at', '>=', Number(since));
        }
        const rows: FollowerRow[] = await q
          .orderBy([
            { column: 'updated_at', order: 'asc' },
            { column: 'openid', order: 'asc' },
          ])
          .limit(limit + 1);
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        return ok({
          errcode: 0,
          items: page.map(changeJson),
          // The last page still answers a cursor, so a client can resume from it later.
          next_cursor: last ? encodeCursor({ u: Number(last.updated_at), o: last.openid }) : cursorRaw || null,
          has_more: rows.length > limit,
        });
      },
    },
  };

  function issueToken(query: URLSearchParams): DemoAnswer {
    if (query.get('grant_type') !== 'client_credential') return wxError(40002, 'invalid grant_type');
    if (query.get('appid') !== options.appId) return wxError(40013, 'invalid appid');
    if (query.get('secret') !== options.appSecret) return wxError(40125, 'invalid appsecret');
    const token = crypto.randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + ttlSeconds * 1000);
    issued++;
    return ok({ access_token: token, expires_in: ttlSeconds });
  }

  function checkToken(query: URLSearchParams): DemoAnswer | null {
    const token = query.get('access_token');
    if (!token) return wxError(41001, 'access_token missing');
    const expiresAt = tokens.get(token);
    if (expiresAt === undefined) return wxError(40001, 'invalid credential, access_token is invalid or not latest');
    if (expiresAt <= Date.now()) return wxError(42001, 'access_token expired');
    return null;
  }

  const server = await startDemoHttpServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    faults: options.faults,
    onClose: owned ? () => knex.destroy() : undefined,
    handle: async (req) => {
      if (req.pathname === '/cgi-bin/token') {
        return req.method === 'GET' ? issueToken(req.query) : { status: 405, body: { errcode: 43001, errmsg: 'require GET method' } };
      }
      const route = authed[req.pathname];
      if (!route) return { status: 404, body: { errcode: 44004, errmsg: 'invalid url' } };
      if (req.method !== route.method) {
        return wxError(route.method === 'GET' ? 43001 : 43002, `require ${route.method} method`);
      }
      const denied = checkToken(req.query);
      if (denied) return denied;
      if (route.method === 'POST' && !req.hasBody) return wxError(44002, 'empty post data');
      if (route.method === 'POST' && req.json === undefined) return wxError(47001, 'data format error');
      return route.run({ query: req.query, json: req.json });
    },
  });

  return Object.assign(server, {
    expireTokens: () => {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    tokensIssued: () => issued,
  });
}
