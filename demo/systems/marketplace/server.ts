/**
 * The stand-in marketplace: a Taobao Open Platform (TOP) router, `GET|POST /router/rest`, over
 * the tables of ./schema.ts. What it checks, in TOP's order and with TOP's codes:
 *   21 Missing Method · 28 Missing App Key · 29 Invalid App Key · 24 Missing Signature ·
 *   30 Missing Timestamp · 31 Invalid Timestamp (not `yyyy-MM-dd HH:mm:ss` GMT+8, or off by
 *   more than 10 minutes) · 25 Invalid Signature (sign_method md5 or hmac) · 26 Missing Session ·
 *   27 Invalid Session · 22 Invalid Method · 40 Missing Required Arguments · 41 Invalid
 *   Arguments (page_size over 100, over 20 ids, malformed times).
 * Errors are HTTP 200 `{ error_response: { code, msg, sub_code, sub_msg, request_id } }`.
 *
 * Methods: taobao.trades.sold.get, taobao.refunds.receive.get, taobao.crm.members.search,
 * taobao.crm.members.increment.get, taobao.time.get. One documented extension: `buyer_open_uid`
 * and `tid` filters take a comma-separated list of up to 20 values (TOP: one), so a gateway can
 * batch. Not modelled: TOP's three-month limit on trades.sold.get and the one-day window of
 * increment calls (the merchant's synced copy has neither).
 *
 * Stand-ins import no gateway code: knex, better-sqlite3 and node only.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import knexFactory, { type Knex } from 'knex';

export interface MarketplaceServerOptions {
  /** An open knex (borrowed) or a SQLite file (opened and closed by the server). */
  db: Knex | string;
  host?: string;
  port?: number;
  appKey: string;
  appSecret: string;
  /** The seller session the router accepts. */
  session: string;
  /** Server clock for the timestamp check (tests shift it). */
  now?: () => number;
}

export type Fault = 'http503' | 'http500' | 'isp' | 'limit' | 'userLimit' | 'garbage';

export interface MarketplaceServer {
  url: string;
  /** The next `n` requests fail with `fault` (after being counted). */
  failNext(fault: Fault, n?: number): void;
  /** Requests received, oldest first (signature failures included): the latest REQUEST_LOG_LIMIT at least, never more than twice that. */
  requests(): Array<{ method: string; params: Record<string, string> }>;
  close(): Promise<void>;
}

const MAX_PAGE = 100;
const MAX_IDS = 20;
const SKEW_MS = 10 * 60_000;
const SH = 8 * 3_600_000;

const TRADE_ROW = ['tid', 'buyer_open_uid', 'status', 'payment', 'total_fee', 'post_fee', 'created', 'pay_time', 'end_time', 'modified', 'receiver_name', 'receiver_mobile'];

function topTime(ms: number | string | null): string | undefined {
  if (ms == null) return undefined;
  const iso = new Date(Number(ms) + SH).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

function parseTopTime(s: string | undefined): number | null {
  if (s == null) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - SH;
}

function sign(params: Record<string, string>, secret: string, method: string): string {
  const body = Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => k + params[k])
    .join('');
  if (method === 'hmac') return crypto.createHmac('md5', secret).update(body, 'utf8').digest('hex').toUpperCase();
  return crypto
    .createHash('md5')
    .update(secret + body + secret, 'utf8')
    .digest('hex')
    .toUpperCase();
}

class TopError {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly sub_code?: string,
    readonly sub_msg?: string,
  ) {}
}
const invalid = (param: string, why: string) => new TopError(41, 'Invalid Arguments', `isv.invalid-parameter:${param}`, why);
const missing = (param: string) => new TopError(40, 'Missing Required Arguments', `isv.missing-parameter:${param}`, `${param} is required`);

function idList(params: Record<string, string>, key: string, pattern: RegExp): string[] | null {
  const raw = params[key];
  if (raw == null || raw === '') return null;
  const ids = raw.split(',').map((s) => s.trim());
  if (ids.length > MAX_IDS) throw invalid(key, `at most ${MAX_IDS} values`);
  if (!ids.every((id) => pattern.test(id))) throw invalid(key, 'malformed value');
  return ids;
}

function paging(params: Record<string, string>, pageKey: string, defaultSize: number): { page: number; size: number } {
  const page = Number(params[pageKey] ?? 1);
  const size = Number(params.page_size ?? defaultSize);
  if (!Number.isSafeInteger(page) || page < 1) throw invalid(pageKey, 'must be a positive integer');
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_PAGE) throw invalid('page_size', `must be 1..${MAX_PAGE}`);
  return { page, size };
}

function timeParam(params: Record<string, string>, key: string): number | null {
  const t = parseTopTime(params[key]);
  if (t !== null && !Number.isFinite(t)) throw invalid(key, 'must be yyyy-MM-dd HH:mm:ss');
  return t;
}

const BUYER_ID = /^[A-Za-z0-9_-]{6,64}$/;
/** Requests kept for `requests()`: the latest this many, so a stand-in serving a demo for days stays the size it started. */
const REQUEST_LOG_LIMIT = 1000;
const NUM_ID = /^\d{1,20}$/;

/** A stored number as TOP writes it (a JSON number), or the text a test stored in its place, as it is. */
const asStored = (v: unknown) => (typeof v === 'string' ? v : Number(v));

export async function startMarketplaceServer(opts: MarketplaceServerOptions): Promise<MarketplaceServer> {
  const owned = typeof opts.db === 'string';
  const db: Knex = typeof opts.db === 'string' ? knexFactory({ client: 'better-sqlite3', connection: { filename: opts.db }, useNullAsDefault: true }) : opts.db;
  const now = opts.now ?? Date.now;
  const faults: Fault[] = [];
  const log: Array<{ method: string; params: Record<string, string> }> = [];
  let requestNo = 0;

  function authenticate(p: Record<string, string>): void {
    if (!p.method) throw new TopError(21, 'Missing Method');
    if (!p.app_key) throw new TopError(28, 'Missing App Key');
    if (p.app_key !== opts.appKey) throw new TopError(29, 'Invalid App Key');
    if (!p.sign) throw new TopError(24, 'Missing Signature');
    if (!p.timestamp) throw new TopError(30, 'Missing Timestamp');
    const ts = parseTopTime(p.timestamp);
    if (ts === null || !Number.isFinite(ts) || Math.abs(now() - ts) > SKEW_MS)
      throw new TopError(31, 'Invalid Timestamp', 'isv.invalid-timestamp', 'timestamp must be within 10 minutes of the server, GMT+8');
    const method = p.sign_method ?? 'md5';
    if (method !== 'md5' && method !== 'hmac') throw new TopError(25, 'Invalid Signature', 'isv.invalid-sign-method');
    if (p.sign !== sign(p, opts.appSecret, method)) throw new TopError(25, 'Invalid Signature');
    if (p.format && p.format !== 'json') throw new TopError(23, 'Invalid Format');
    if (p.method === 'taobao.time.get') return;
    if (!p.session) throw new TopError(26, 'Missing Session');
    if (p.session !== opts.session) throw new TopError(27, 'Invalid Session', 'invalid-sessionkey', 'session key is not valid');
  }

  async function tradesSoldGet(p: Record<string, string>) {
    if (!p.fields) throw missing('fields');
    const buyers = idList(p, 'buyer_open_uid', BUYER_ID);
    const tids = idList(p, 'tid', NUM_ID);
    const start = timeParam(p, 'start_created');
    const end = timeParam(p, 'end_created');
    const { page, size } = paging(p, 'page_no', 40);
    const q = db('tb_trades').select(TRADE_ROW);
    if (buyers) q.whereIn('buyer_open_uid', buyers);
    if (tids) q.whereIn('tid', tids);
    if (start != null) q.where('created', '>=', start);
    if (end != null) q.where('created', '<=', end);
    if (p.status) q.where('status', p.status);
    // TOP lists newest first by creation time.
    const rows = await q
      .orderBy([
        { column: 'created', order: 'desc' },
        { column: 'tid', order: 'desc' },
      ])
      .limit(size + 1)
      .offset((page - 1) * size);
    const hasNext = rows.length > size;
    const trades = rows.slice(0, size);
    // As TOP: only the fields asked are answered; sub-orders only when `orders` (or one of its fields) is.
    const asked = new Set(p.fields.split(',').map((f) => f.trim()));
    const withLines = [...asked].some((f) => f === 'orders' || f.startsWith('orders.'));
    const lines =
      trades.length && withLines
        ? await db('tb_orders')
            .whereIn(
              'tid',
              trades.map((t) => t.tid),
            )
            .orderBy('oid')
        : [];
    const byTid = new Map<string, Array<Record<string, unknown>>>();
    for (const l of lines) byTid.set(l.tid, [...(byTid.get(l.tid) ?? []), l]);
    const answer: Record<string, unknown> = {};
    if (p.use_has_next === 'true') answer.has_next = hasNext;
    else answer.total_results = Number((await q.clone().clearSelect().clearOrder().count({ n: '*' }).first())?.n ?? 0);
    if (trades.length)
      answer.trades = {
        trade: trades.map((t) =>
          pick(asked, {
            // TOP's JSON carries ids as numbers and, for clients whose numbers lose digits, as `*_str`.
            tid: Number(t.tid),
            tid_str: String(t.tid),
            status: t.status,
            buyer_open_uid: t.buyer_open_uid,
            payment: t.payment,
            total_fee: t.total_fee,
            post_fee: t.post_fee,
            created: topTime(t.created),
            pay_time: topTime(t.pay_time),
            end_time: topTime(t.end_time),
            modified: topTime(t.modified),
            receiver_name: t.receiver_name ?? undefined,
            receiver_mobile: t.receiver_mobile ?? undefined,
            orders: {
              order: (byTid.get(t.tid) ?? []).map((o) => ({
                oid: Number(o.oid),
                oid_str: String(o.oid),
                title: o.title,
                outer_sku_id: o.outer_sku_id ?? undefined,
                cid: Number(o.cid),
                num: Number(o.num),
                price: o.price,
                total_fee: o.total_fee,
                payment: o.payment,
                refund_id: o.refund_id ?? undefined,
                refund_status: o.refund_status,
                status: t.status,
              })),
            },
          }),
        ),
      };
    return answer;
  }

  /** The answered fields of one object: those asked (`tid` brings its `tid_str` twin; `orders.x` brings `orders`). */
  function pick(asked: Set<string>, row: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      const base = k.endsWith('_str') ? k.slice(0, -4) : k;
      if (asked.has(k) || asked.has(base) || (k === 'orders' && [...asked].some((f) => f.startsWith('orders.')))) out[k] = v;
    }
    return out;
  }

  async function refundsReceiveGet(p: Record<string, string>) {
    if (!p.fields) throw missing('fields');
    const buyers = idList(p, 'buyer_open_uid', BUYER_ID);
    const tids = idList(p, 'tid', NUM_ID);
    const start = timeParam(p, 'start_modified');
    const end = timeParam(p, 'end_modified');
    const { page, size } = paging(p, 'page_no', 40);
    const q = db('tb_refunds').select('*');
    if (buyers) q.whereIn('buyer_open_uid', buyers);
    if (tids) q.whereIn('tid', tids);
    if (p.status) q.where('status', p.status);
    if (start != null) q.where('modified', '>=', start);
    if (end != null) q.where('modified', '<=', end);
    const rows = await q
      .orderBy([
        { column: 'modified', order: 'desc' },
        { column: 'refund_id', order: 'desc' },
      ])
      .limit(size + 1)
      .offset((page - 1) * size);
    const answer: Record<string, unknown> = {};
    if (p.use_has_next === 'true') answer.has_next = rows.length > size;
    else answer.total_results = Number((await q.clone().clearSelect().clearOrder().count({ n: '*' }).first())?.n ?? 0);
    const list = rows.slice(0, size);
    if (list.length)
      answer.refunds = {
        refund: list.map((r) => ({
          refund_id: String(r.refund_id),
          tid: Number(r.tid),
          oid: Number(r.oid),
          buyer_open_uid: r.buyer_open_uid,
          refund_fee: r.refund_fee,
          reason: r.reason ?? undefined,
          status: r.status,
          created: topTime(r.created),
          modified: topTime(r.modified),
        })),
      };
    return answer;
  }

  function memberJson(m: Record<string, any>) {
    return {
      buyer_open_uid: m.buyer_open_uid,
      buyer_nick: m.buyer_nick ?? undefined,
      // Numbers as TOP writes them; a value the store holds as text (a row a test wrote as a TOP
      // that answers `""` or `"n/a"` would) goes out as it is.
      grade: asStored(m.grade),
      trade_count: asStored(m.trade_count),
      trade_amount: m.trade_amount,
      first_trade_time: topTime(m.first_trade_time),
      last_trade_time: topTime(m.last_trade_time),
      join_time: topTime(m.join_time),
      // 会员通: a member's mobile is the brand's to see; nobody else's is ever given.
      mobile: m.join_time != null ? (m.mobile ?? undefined) : undefined,
      relation_source: Number(m.relation_source),
      modified: topTime(m.modified),
    };
  }

  async function membersSearch(p: Record<string, string>) {
    const buyers = idList(p, 'buyer_open_uid', BUYER_ID);
    const { page, size } = paging(p, 'current_page', 100);
    const q = db('tb_buyers');
    if (buyers) q.whereIn('buyer_open_uid', buyers);
    const total = Number((await q.clone().count({ n: '*' }).first())?.n ?? 0);
    const rows = await q
      .select('*')
      .orderBy('buyer_open_uid')
      .limit(size)
      .offset((page - 1) * size);
    return { total_result: total, ...(rows.length ? { members: { basic_member: rows.map(memberJson) } } : {}) };
  }

  async function membersIncrement(p: Record<string, string>) {
    const start = timeParam(p, 'start_modify');
    const end = timeParam(p, 'end_modify');
    if (start == null) throw missing('start_modify');
    const { page, size } = paging(p, 'current_page', 100);
    const q = db('tb_buyers').where('modified', '>=', start);
    if (end != null) q.where('modified', '<=', end);
    const total = Number((await q.clone().count({ n: '*' }).first())?.n ?? 0);
    const rows = await q
      .select('*')
      .orderBy([{ column: 'modified' }, { column: 'buyer_open_uid' }])
      .limit(size)
      .offset((page - 1) * size);
    return { total_result: total, ...(rows.length ? { members: { basic_member: rows.map(memberJson) } } : {}) };
  }

  const METHODS: Record<string, (p: Record<string, string>) => Promise<Record<string, unknown>>> = {
    'taobao.trades.sold.get': tradesSoldGet,
    'taobao.refunds.receive.get': refundsReceiveGet,
    'taobao.crm.members.search': membersSearch,
    'taobao.crm.members.increment.get': membersIncrement,
    'taobao.time.get': async () => ({ time: topTime(now()) }),
  };

  async function handle(params: Record<string, string>): Promise<{ status: number; body: string }> {
    const requestId = `${(++requestNo).toString(36)}${Date.now().toString(36)}`;
    log.push({ method: params.method ?? '', params });
    if (log.length > 2 * REQUEST_LOG_LIMIT) log.splice(0, log.length - REQUEST_LOG_LIMIT);
    const fault = faults.shift();
    if (fault === 'http503') return { status: 503, body: '<html>Service Unavailable</html>' };
    if (fault === 'http500') return { status: 500, body: '{}' };
    if (fault === 'garbage') return { status: 200, body: '{"trades_sold_get_response":' };
    try {
      if (fault === 'isp') throw new TopError(15, 'Remote service error', 'isp.top-remote-connection-timeout', 'remote service timeout');
      if (fault === 'limit') throw new TopError(7, 'App Call Limited', 'accesscontrol.limited-by-app-access-count', 'call limit reached');
      if (fault === 'userLimit') throw new TopError(4, 'User Call Limited');
      authenticate(params);
      const method = METHODS[params.method];
      if (!Object.hasOwn(METHODS, params.method)) throw new TopError(22, 'Invalid Method');
      const answer = await method(params);
      const key = `${params.method.replace(/^taobao\./, '').replace(/\./g, '_')}_response`;
      return { status: 200, body: JSON.stringify({ [key]: { ...answer, request_id: requestId } }) };
    } catch (e) {
      if (!(e instanceof TopError)) throw e;
      return { status: 200, body: JSON.stringify({ error_response: { code: e.code, msg: e.msg, sub_code: e.sub_code, sub_msg: e.sub_msg, request_id: requestId } }) };
    }
  }

  const server = http.createServer((req, res) => {
    // A target no URL parses (`//[`) is the client's error; thrown here it would end the process.
    if (!URL.canParse(req.url ?? '/', 'http://stand-in')) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid request target');
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          if (url.pathname !== '/router/rest') {
            res.writeHead(404).end();
            return;
          }
          const params: Record<string, string> = Object.fromEntries(url.searchParams);
          if (req.method === 'POST') Object.assign(params, Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
          else if (req.method !== 'GET') {
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ error_response: { code: 9, msg: 'Http Action Not Allowed' } }));
            return;
          }
          const { status, body } = await handle(params);
          res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' }).end(body);
        } catch {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error_response":{"code":10,"msg":"Service Currently Unavailable"}}');
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    failNext(fault, n = 1) {
      for (let i = 0; i < n; i++) faults.push(fault);
    },
    requests: () => log,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (owned) await db.destroy();
    },
  };
}
