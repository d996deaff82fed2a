/**
 * The stand-in WeCom server API (qyapi.weixin.qq.com), customer-contact part, over the SQLite
 * store of demo/systems/wecom/schema.ts. It speaks WeCom's wire format: JSON, errors as HTTP
 * 200 with a non-zero errcode and an errmsg.
 *
 *   GET  /cgi-bin/gettoken?corpid&corpsecret            → access_token, expires_in 7200
 *                                                        40013 bad corpid, 40001 bad secret
 *   GET  /cgi-bin/externalcontact/get_follow_user_list  → follow_user: staff userids
 *   POST /cgi-bin/externalcontact/batch/get_by_user     {userid_list ≤ 100, cursor, limit}
 *        → external_contact_list [{external_contact, follow_info}], next_cursor
 *        limit defaults to 50 and is capped at 100 (as WeCom documents); 60111 unknown userid;
 *        40058 (invalid parameter) for an empty or over-long userid_list, a negative limit or
 *        a cursor it did not issue
 *   GET  /cgi-bin/externalcontact/get?external_userid&cursor
 *        → external_contact, follow_user (with tag names, paged past 500), next_cursor
 *        84061 no such contact relationship, 40096 not an external_userid
 *
 * Every API call checks access_token: 41001 missing, 40014 unknown, 42001 expired.
 * Test hooks: expire every token, count requests per path, inject errcodes / broken bodies.
 *
 * Another company's system: imports nothing of the gateway, opens SQLite with knex directly.
 * Every query is a primary-key or (userid, external_userid) index lookup with bound parameters.
 */
import crypto from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import knex, { type Knex } from 'knex';

export interface WecomServerOptions {
  /** The store: an open knex (borrowed) or a SQLite file (opened read-only, closed with the server). */
  db: Knex | string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  corpId: string;
  corpSecret: string;
  /** Lifetime of an issued access token (WeCom: 7200). */
  tokenTtlSeconds?: number;
  /** follow_user entries per externalcontact/get page (WeCom: 500). */
  followPageSize?: number;
}

/** A fault the next matching request(s) answer instead of the real answer. */
export type WecomFault = { errcode: number } | { garbage: true } | { status: number };

export interface WecomServer {
  url: string;
  close(): Promise<void>;
  /** Expires every issued access token now: the next call with one answers errcode 42001. */
  expireTokens(): void;
  /** Access tokens issued so far. */
  tokensIssued(): number;
  /** Requests received for `path` (all paths when unset). */
  requests(path?: string): number;
  /** The next `times` requests to `path` (any path when unset) answer `fault`. */
  inject(fault: WecomFault, opts?: { path?: string; times?: number }): void;
}

const MAX_USERIDS = 100;
const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 50;
const EXTERNAL_USERID = /^w[mo][A-Za-z0-9_-]{20,40}$/;

export const PATHS = {
  token: '/cgi-bin/gettoken',
  staff: '/cgi-bin/externalcontact/get_follow_user_list',
  byUser: '/cgi-bin/externalcontact/batch/get_by_user',
  contact: '/cgi-bin/externalcontact/get',
} as const;

interface ContactRow {
  external_userid: string;
  name: string;
  type: number;
  gender: number;
  unionid: string | null;
  avatar: string;
  corp_name: string | null;
}

interface FollowRow {
  external_userid: string;
  userid: string;
  remark: string;
  description: string;
  createtime: number | string;
  tag_ids: string;
  remark_corp_name: string;
  remark_mobiles: string;
  add_way: number;
  oper_userid: string;
  state: string;
}

type Json = Record<string, unknown>;

const ERRMSG: Record<number, string> = {
  40001: 'invalid secret',
  40013: 'invalid corpid',
  40014: 'invalid access_token',
  40058: 'invalid parameter',
  40096: 'invalid external userid',
  41001: 'access_token missing',
  42001: 'access_token expired',
  47001: 'data format error',
  60111: 'userid not found',
  84061: 'not external contact',
};
const fail = (errcode: number): Json => ({ errcode, errmsg: ERRMSG[errcode] ?? 'error' });

/** WeCom's cursors are opaque; these are base64url JSON the server alone reads back. */
const encode = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
function decode(s: string): Json | null {
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

const list = (json: string): string[] => {
  try {
    const v = JSON.parse(json);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
};

function contactJson(c: ContactRow): Json {
  return {
    external_userid: c.external_userid,
    name: c.name,
    type: c.type,
    avatar: c.avatar,
    gender: c.gender,
    // WeCom leaves out what the app may not see, rather than sending null.
    ...(c.unionid ? { unionid: c.unionid } : {}),
    ...(c.corp_name ? { corp_name: c.corp_name } : {}),
  };
}

function followBase(f: FollowRow): Json {
  return {
    userid: f.userid,
    remark: f.remark,
    description: f.description,
    createtime: Number(f.createtime),
    remark_corp_name: f.remark_corp_name,
    remark_mobiles: list(f.remark_mobiles),
    add_way: f.add_way,
    oper_userid: f.oper_userid,
    ...(f.state ? { state: f.state } : {}),
  };
}

export async function startWecomServer(options: WecomServerOptions): Promise<WecomServer> {
  const owned = typeof options.db === 'string';
  const db: Knex =
    typeof options.db === 'string'
      ? knex({ client: 'better-sqlite3', connection: { filename: options.db, options: { readonly: true } }, useNullAsDefault: true })
      : options.db;
  const ttl = options.tokenTtlSeconds ?? 7200;
  const followPage = options.followPageSize ?? 500;
  const tokens = new Map<string, number>();
  let issued = 0;
  const counts = new Map<string, number>();
  const faults: Array<{ fault: WecomFault; path?: string; left: number }> = [];

  const tagNames = new Map<string, { tag_name: string; group_name: string }>();
  for (const t of await db('wecom_tags').select('tag_id', 'tag_name', 'group_name')) tagNames.set(t.tag_id, t);

  function checkToken(query: URLSearchParams): number {
    const t = query.get('access_token');
    if (!t) return 41001;
    const expires = tokens.get(t);
    if (expires === undefined) return 40014;
    return Date.now() >= expires ? 42001 : 0;
  }

  function gettoken(query: URLSearchParams): Json {
    if (query.get('corpid') !== options.corpId) return fail(40013);
    if (query.get('corpsecret') !== options.corpSecret) return fail(40001);
    const token = crypto.randomBytes(48).toString('base64url');
    tokens.set(token, Date.now() + ttl * 1000);
    issued++;
    return { errcode: 0, errmsg: 'ok', access_token: token, expires_in: ttl };
  }

  async function staff(): Promise<Json> {
    const rows = await db('wecom_staff').select('userid').orderBy('userid');
    return { errcode: 0, errmsg: 'ok', follow_user: rows.map((r) => r.userid) };
  }

  async function byUser(body: unknown): Promise<Json> {
    if (!body || typeof body !== 'object') return fail(47001);
    const { userid_list: userids, cursor = '', limit: rawLimit } = body as Json;
    if (!Array.isArray(userids) || userids.length === 0 || userids.length > MAX_USERIDS || !userids.every((u) => typeof u === 'string')) return fail(40058);
    if (rawLimit !== undefined && (typeof rawLimit !== 'number' || !Number.isInteger(rawLimit) || rawLimit < 0)) return fail(40058);
    const limit = !rawLimit ? DEFAULT_LIMIT : Math.min(MAX_LIMIT, rawLimit as number);
    const known = new Set(
      (
        await db('wecom_staff')
          .whereIn('userid', userids as string[])
          .select('userid')
      ).map((r) => r.userid),
    );
    if (userids.some((u) => !known.has(u))) return fail(60111);
    // Position: index into userid_list, and the last external_userid returned for that staff member.
    let at = 0;
    let after = '';
    if (cursor !== '') {
      const c = typeof cursor === 'string' ? decode(cursor) : null;
      if (!c || typeof c.i !== 'number' || typeof c.e !== 'string' || c.i < 0 || c.i >= userids.length) return fail(40058);
      at = c.i;
      after = c.e;
    }
    const page: Array<FollowRow & ContactRow & { i: number }> = [];
    // One more row than asked tells whether a next page exists.
    for (let i = at; i < userids.length && page.length <= limit; i++) {
      const rows: Array<FollowRow & ContactRow> = await db('wecom_follows as f')
        .join('wecom_contacts as c', 'c.external_userid', 'f.external_userid')
        .where('f.userid', userids[i])
        .andWhere('f.external_userid', '>', i === at ? after : '')
        .orderBy('f.external_userid')
        .limit(limit + 1 - page.length)
        .select('f.*', 'c.name', 'c.type', 'c.gender', 'c.unionid', 'c.avatar', 'c.corp_name');
      page.push(...rows.map((r) => ({ ...r, i })));
    }
    const more = page.length > limit;
    const shown = page.slice(0, limit);
    const last = shown[shown.length - 1];
    return {
      errcode: 0,
      errmsg: 'ok',
      external_contact_list: shown.map((r) => ({
        external_contact: contactJson(r),
        follow_info: { ...followBase(r), tag_id: list(r.tag_ids) },
      })),
      next_cursor: more && last ? encode({ i: last.i, e: last.external_userid }) : '',
    };
  }

  async function contact(query: URLSearchParams): Promise<Json> {
    const id = query.get('external_userid') ?? '';
    if (!EXTERNAL_USERID.test(id)) return fail(40096);
    const c: ContactRow | undefined = await db('wecom_contacts').where('external_userid', id).first();
    if (!c) return fail(84061);
    let after = '';
    const cursor = query.get('cursor');
    if (cursor) {
      const d = decode(cursor);
      if (!d || typeof d.u !== 'string') return fail(40058);
      after = d.u;
    }
    const rows: FollowRow[] = await db('wecom_follows')
      .where('external_userid', id)
      .andWhere('userid', '>', after)
      .orderBy('userid')
      .limit(followPage + 1);
    // A contact no staff member follows any more is no contact of the corp.
    if (rows.length === 0 && !cursor) return fail(84061);
    const more = rows.length > followPage;
    const shown = rows.slice(0, followPage);
    return {
      errcode: 0,
      errmsg: 'ok',
      external_contact: contactJson(c),
      follow_user: shown.map((f) => ({
        ...followBase(f),
        tags: list(f.tag_ids).map((tagId) => {
          const t = tagNames.get(tagId);
          return { group_name: t?.group_name ?? '', tag_name: t?.tag_name ?? '', type: 1, tag_id: tagId };
        }),
      })),
      next_cursor: more ? encode({ u: shown[shown.length - 1].userid }) : '',
    };
  }

  function takeFault(path: string): WecomFault | null {
    const i = faults.findIndex((f) => !f.path || f.path === path);
    if (i < 0) return null;
    const f = faults[i];
    if (--f.left <= 0) faults.splice(i, 1);
    return f.fault;
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const raw = req.method === 'POST' ? await readBody(req) : '';
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const fault = takeFault(path);
    if (fault) {
      if ('garbage' in fault) return send(200, '{"errcode":0,"errmsg":"ok","external_con');
      if ('status' in fault) return send(fault.status, JSON.stringify(fail(-1)));
      return send(200, JSON.stringify({ errcode: fault.errcode, errmsg: ERRMSG[fault.errcode] ?? 'system busy' }));
    }
    const route = `${req.method} ${path}`;
    if (route === `GET ${PATHS.token}`) return send(200, JSON.stringify(gettoken(url.searchParams)));
    if (![`GET ${PATHS.staff}`, `POST ${PATHS.byUser}`, `GET ${PATHS.contact}`].includes(route)) return send(404, JSON.stringify(fail(404)));
    const tokenError = checkToken(url.searchParams);
    if (tokenError) return send(200, JSON.stringify(fail(tokenError)));
    if (route === `GET ${PATHS.staff}`) return send(200, JSON.stringify(await staff()));
    if (route === `GET ${PATHS.contact}`) return send(200, JSON.stringify(await contact(url.searchParams)));
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(200, JSON.stringify(fail(47001)));
    }
    return send(200, JSON.stringify(await byUser(body)));
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errcode: -1, errmsg: 'system busy' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;

  return {
    url: `http://${address}:${port}`,
    async close() {
      // Keep-alive sockets of a client would hold close() open.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (owned) await db.destroy();
    },
    expireTokens() {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    tokensIssued: () => issued,
    requests: (path) => (path ? (counts.get(path) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0)),
    inject(fault, opts = {}) {
      faults.push({ fault, path: opts.path, left: opts.times ?? 1 });
    },
  };
}
