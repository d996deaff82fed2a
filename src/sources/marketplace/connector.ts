/**
 * Marketplace connector: a Tmall/Taobao shop through the Taobao Open Platform (TOP) router,
 * `GET <baseUrl>/router/rest`, JSON format, every request signed (sign_method md5:
 * MD5(secret + k1v1k2v2… over the sorted parameters + secret), upper-case hex) and carrying the
 * seller's session. Errors arrive as HTTP 200 `{ error_response: { code, msg, sub_code, sub_msg } }`.
 *
 * Keys: the OneID record is one buyer, id = TOP's `buyer_open_uid` (per-app opaque buyer id);
 * orders are trades (`tid`), lines are sub-orders (`oid`), refunds `refund_id`.
 *
 * Methods and what one call costs (each call is one HTTP request, counted once by the observer):
 *   taobao.crm.members.search          buyers by id: one call per chunk of ≤ maxBatch ids
 *   taobao.trades.sold.get             trades by buyer (or by tid): one call per page of ≤ 100
 *                                      trades per chunk of ≤ maxBatch keys
 *   taobao.refunds.receive.get         SUCCESS refunds by buyer (or by tid): idem
 *   taobao.crm.members.increment.get   the identity feed: one call per page of ≤ 100 buyers
 *   taobao.time.get                    health
 * Batch limit: real TOP filters `buyer_open_uid` / `tid` by ONE value per call; the stand-in
 * (demo/systems/marketplace) also takes a comma-separated list of up to 20 (API_MAX_IDS), the
 * batch form an ISV gateway such as the merchant's Jushita sync offers. Against the real
 * router set `maxBatch: 1`: every key then costs one call, still chunked and concurrent.
 * TOP has no aggregate endpoint: summaries, category statistics, events and RFM boundaries are
 * computed here over the trades and refunds the calls answer (RFM pages the whole base: callers
 * cache it).
 *
 * Identity: a buyer's PHONE is the mobile TOP hands over for members who joined the brand's
 * shop membership (会员通, the buyer consented). Receiver phones on trades are never identifiers:
 * they are mostly privacy virtual numbers (`17012345678-5678`, one number shared by many buyers
 * with an extension each) or masked (`138****8000`), and even a plain one names whoever received
 * the parcel (gifts, offices), not the buyer.
 *
 * The platform's formats (decimal strings in the shop's `currency`, yuan by default, `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai, TOP statuses)
 * are known here and nowhere else.
 */
import crypto from 'node:crypto';
import { badRow, SourceError, unreadableRecord } from '../../errors';
import { instantArgumentMillis, limitArgument } from '../arguments';
import { countedUntil, placedBy, summarySpan, type SummarySpan } from '../summary-span';
import { addMoney, instantFromShanghaiLocal, moneyFromCents, moneyFromDecimal, normalizePhone, shanghaiLocalText, toCents } from '../../canonical';
import { badResponse, connectorTransport, type BreakerOptions, type JsonObject } from '../http';
import { byChunk, noneFailed, NONE_FAILED, type SourceCall, type SourceObserver } from '../observe';
import {
  ntileUpperBounds,
  type AsOf,
  type CategoryStat,
  type Order,
  type OrderFact,
  type OrderFactQuery,
  type OrderLine,
  type OrderQuery,
  type OrderSummary,
  type Refund,
  type RfmBoundaries,
  type SummaryQuery,
} from '../../capabilities';
import type { Connector, EventKind, EventQuery, Instant, ListSlot, Money, ScannedRecord, ScanPage, Slot, SourceAccount, SourceEvent, SourceName } from '../../vocabulary';
import { checkEventQuery, compareEvents, isAfter, kindsWanted, unplaced } from '../../vocabulary/event-order';

export interface MarketplaceOptions {
  baseUrl: string;
  appKey: string;
  appSecret: string;
  /** The seller's session key (TOP's OAuth access token for the shop). */
  session: string;
  /** Sales channel the orders carry (`tmall`, `taobao`, `jd`, …). */
  channel: string;
  timeoutMs: number;
  retries?: number;
  maxBatch?: number;
  breaker?: Partial<BreakerOptions>;
  scanPageSize?: number;
  /** Largest response body accepted, in bytes (the transport's default when absent). */
  maxResponseBytes?: number;
  currency: string;
  /** TOP category id (`cid`) → the company's category name; unmapped ids read `cid:<n>`. */
  categories?: Record<string, string>;
}

/** One buyer of the shop, as TOP's CRM member view has it. */
export interface MarketplaceBuyer {
  source: SourceName;
  /** `buyer_open_uid`. */
  id: string;
  /** Masked by the platform (`t**1`); never unmasked. */
  nick: string | null;
  /** E.164; only the buyer's own number, given when they joined the shop's membership. */
  phone: string | null;
  channel: string;
  /** CRM grade 0..4 (0: buyer only, not a member). */
  grade: number | null;
  /** When the buyer joined the shop's membership; null for non-members. */
  memberSince: Instant | null;
  firstOrderAt: Instant | null;
  lastOrderAt: Instant | null;
  /** Successful trades, as TOP counts them. */
  tradeCount: number | null;
  updatedAt: Instant | null;
}

export interface MarketplaceConnector extends Connector {
  readonly channel: string;
  readonly currency: string;
  /** `account`, here and below: the request's, which every call made for it is booked to (`SourceCall.account`); a whole-base read in flight is booked to the request that started it. */
  buyersByIds(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<MarketplaceBuyer> | null>>;
  ordersByBuyerIds(ids: readonly string[], query: OrderQuery, account?: SourceAccount): Promise<Array<ListSlot<Order>>>;
  orderSummariesByBuyerIds(ids: readonly string[], query: SummaryQuery, account?: SourceAccount): Promise<Array<Slot<OrderSummary> | null>>;
  linesByOrderIds(ids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<OrderLine>>>;
  refundsByOrderIds(ids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<Refund>>>;
  categoryStatsByBuyerIds(ids: readonly string[], asOf: AsOf, account?: SourceAccount): Promise<Array<ListSlot<CategoryStat>>>;
  eventsByBuyerIds(ids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
  rfmBoundaries(asOf: AsOf, account?: SourceAccount): Promise<RfmBoundaries>;
  /** Filter pushdown: per buyer with a selected counted trade, its aggregates (the listings paged with their time parameters). */
  orderFacts(query: OrderFactQuery, account?: SourceAccount): Promise<OrderFact[]>;
  /** The calls `orderFacts` would make now: 0 while the whole-base listing is cached, else its pages as last counted (null: never listed yet). */
  orderFactsCalls(): number | null;
  /**
   * The pages the whole-base listing will take, asked of TOP before its first read: each listing's
   * `total_results` at `page_size=1`, one call each; `orderFactsCalls` answers them from then on.
   */
  orderFactsPages(account?: SourceAccount): Promise<number>;
}

/** The event kinds a marketplace shop emits: the same names as the SQL shop's, so timelines read alike. */
export const MARKETPLACE_EVENT_KINDS: readonly EventKind[] = ['order_paid', 'order_placed', 'order_refunded'];

const PATH = '/router/rest';
/** Ids per filtered call the stand-in accepts (real TOP: 1, see the header). */
export const API_MAX_IDS = 20;
/** TOP's page_size ceiling for trades, refunds and CRM members. */
export const API_MAX_PAGE = 100;
/** Pages of one whole-base listing in flight at once (filter pushdown). */
const LISTING_CONCURRENCY = 6;
/**
 * Filter pushdown reads the whole trade and refund listings; their compact form (a few numbers
 * per trade) is kept this long, so the first pages of several walks within it share one read,
 * as the RFM boundaries are shared. Dropped early when the platform tells of a change (a
 * webhook's `scanRecords`), and never kept for a base above BASE_MAX_TRADES trades.
 */
export const BASE_TTL_MS = 60_000;
export const BASE_MAX_TRADES = 500_000;
/** A runaway has_next (a server that never ends) stops here instead of looping forever. */
const MAX_PAGES = 10_000;
const CURSOR_PREFIX = 'top1:';
const CANCELLED = 'cancelled';
const DAY_MS = 86_400_000;

const TRADE_FIELDS = 'tid,tid_str,status,buyer_open_uid,buyer_nick,created,pay_time,modified,end_time,payment,total_fee,post_fee,receiver_name,receiver_mobile,orders';
/** A trade without its sub-orders and receiver: what summaries, orders and events read (TOP answers only the fields asked). */
const SUMMARY_FIELDS = 'tid,tid_str,status,buyer_open_uid,created,pay_time,modified,payment';
const REFUND_FIELDS = 'refund_id,tid,oid,buyer_open_uid,refund_fee,reason,status,created,modified';

/**
 * TOP trade status → the canonical statuses the SQL shop uses. TRADE_CLOSED means "closed after
 * the buyer was refunded in full" (paid) or "closed unpaid"; the pay time tells them apart.
 */
const STATUS: Record<string, string | ((paid: boolean) => string)> = {
  TRADE_NO_CREATE_PAY: 'created',
  WAIT_BUYER_PAY: 'created',
  PAY_PENDING: 'created',
  WAIT_PRE_AUTH_CONFIRM: 'created',
  WAIT_SELLER_SEND_GOODS: 'paid',
  SELLER_CONSIGNED_PART: 'shipped',
  WAIT_BUYER_CONFIRM_GOODS: 'shipped',
  TRADE_BUYER_SIGNED: 'shipped',
  TRADE_FINISHED: 'completed',
  TRADE_CLOSED: (paid) => (paid ? 'refunded' : CANCELLED),
  TRADE_CLOSED_BY_TAOBAO: CANCELLED,
};

/**
 * TOP codes that mean "the platform is overloaded or down, try later"; every other code is our
 * request's fault. TOP's platform error list: 4 User Call Limited, 5 Session Call Limited,
 * 6 Partner Call Limited, 7 App Call Limited, 8 App Call Exceeds Limited Frequency,
 * 10 Service Currently Unavailable.
 */
const UNAVAILABLE_CODES = new Set([4, 5, 6, 7, 8, 10, 520]);

/** `buyer_open_uid`s look like `AAHk5d-EAAeGwJedwSFu0XXX`; anything else never reaches the API (one bad id fails a whole TOP call). */
const isBuyerId = (id: string) => /^[A-Za-z0-9_-]{6,64}$/.test(id);
/** Trade and refund ids: decimal digits. */
const isNumericId = (id: string) => /^[1-9]\d{0,19}$/.test(id);

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
/** A TOP id: the `*_str` twin when given (19-digit ids do not survive JSON numbers), else an exact integer. */
function idOf(row: JsonObject, key: string): string | null {
  const s = row[`${key}_str`] ?? row[key];
  if (typeof s === 'string' && /^\d+$/.test(s)) return s;
  if (typeof s === 'number' && Number.isSafeInteger(s) && s > 0) return String(s);
  return null;
}

/** `yyyy-MM-dd HH:mm:ss` in Asia/Shanghai, TOP's one time format (requests and answers). */
export function topTime(ms: number): string {
  return shanghaiLocalText(ms);
}

/** TOP's md5 signature over every parameter but `sign`. */
export function topSign(params: Record<string, string>, secret: string): string {
  const body = Object.keys(params)
    .filter((k) => k !== 'sign')
    .sort()
    .map((k) => k + params[k])
    .join('');
  return crypto
    .createHash('md5')
    .update(secret + body + secret, 'utf8')
    .digest('hex')
    .toUpperCase();
}

/**
 * A real buyer mobile in E.164, or null. Masked numbers (`*`), virtual numbers with an
 * extension (`-5678`, `转5678`) and anything that is not an 11-digit Chinese mobile or another
 * country's number are refused: such a value is shared by strangers and must never link.
 */
export function realPhone(raw: unknown): string | null {
  const s = text(raw);
  if (!s || /[*＊]/.test(s) || /\d\s*[-—–#转]\s*\d{1,6}\s*$/.test(s) || /ext/i.test(s)) return null;
  const e164 = normalizePhone(s);
  if (!e164) return null;
  if (e164.startsWith('+86') && !/^\+861\d{10}$/.test(e164)) return null;
  return e164;
}

/** Whether a TOP error says the platform will not serve us now (not our request's fault). */
function isUnavailable(code: number, sub: string): boolean {
  // isp.* sub codes are the platform's own failures (timeouts, remote services down): transient.
  return UNAVAILABLE_CODES.has(code) || sub.startsWith('isp.');
}

/** A body whose `error_response` is an unavailable one, for the transport's `overloaded` (the breaker counts it). */
function overloaded(body: JsonObject): boolean {
  const err = body.error_response;
  if (err === null || typeof err !== 'object' || Array.isArray(err)) return false;
  const { code, sub_code: sub } = err as JsonObject;
  return isUnavailable(typeof code === 'number' ? code : Number(code), typeof sub === 'string' ? sub : '');
}

function topError(source: SourceName, method: string, err: JsonObject): SourceError {
  const code = typeof err.code === 'number' ? err.code : Number(err.code);
  const sub = typeof err.sub_code === 'string' ? err.sub_code : '';
  // msg/sub_msg are left out on purpose: TOP puts argument values (nicks, ids) in them.
  // `topCode`, not `code`: the detail is spread into extensions, where `code` is c360's.
  const detail = { request: method, topCode: code, ...(sub ? { subCode: sub } : {}) };
  const what = `error ${Number.isFinite(code) ? code : '?'}${sub ? ` (${sub})` : ''}`;
  if (isUnavailable(code, sub)) {
    return new SourceError(source, 'SOURCE_UNAVAILABLE', `${source} is unavailable: ${method} answered ${what}`, detail);
  }
  return new SourceError(source, 'SOURCE_BAD_RESPONSE', `${source} refused ${method}: ${what}`, detail);
}

/** `{ trades: { trade: [...] } }` → the list; TOP leaves the wrapper out when the list is empty. */
function nested(source: SourceName, body: JsonObject, outer: string, inner: string, request: string): JsonObject[] {
  const wrap = body[outer];
  if (wrap == null) return [];
  if (typeof wrap !== 'object' || Array.isArray(wrap)) throw badResponse(source, request, `"${outer}" is not an object`);
  const list = (wrap as JsonObject)[inner];
  if (list == null) return [];
  if (!Array.isArray(list)) throw badResponse(source, request, `"${outer}.${inner}" is not an array`);
  return list.map((x) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? x : {})) as JsonObject[];
}

function groupBy<T>(rows: readonly T[], key: (r: T) => string | null): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    if (k == null) continue;
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(r);
  }
  return m;
}

// ---------- the connector ----------

/** What a TOP call is made as: its operation (metrics, tests) and the request it is booked to. */
type Op = Pick<SourceCall, 'operation' | 'account'>;

/**
 * A whole-number field of TOP's (a buyer's `grade`, `trade_count`), which it writes as a number or
 * as decimal digits: null when absent or empty (`""`, TOP's "not given", as for its times);
 * undefined (not a whole number: the caller's row error) for anything else. `Number` alone read
 * `""` as 0 (a grade of "buyer only" nobody gave), `true` as 1, and dropped `"n/a"` to null unsaid.
 */
function wholeNumber(v: unknown): number | null | undefined {
  if (v == null || v === '') return null;
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

export function createMarketplaceConnector(name: SourceName, options: MarketplaceOptions, observer: SourceObserver): MarketplaceConnector {
  const SOURCE = name;
  const { transport, maxBatch, defaultPage } = connectorTransport(SOURCE, options, { maxIds: API_MAX_IDS, maxPage: API_MAX_PAGE, overloaded, observer });
  const currency = options.currency;
  const channel = options.channel;
  const categories = options.categories ?? {};

  /**
   * One TOP call through the observer: signs the parameters, sends them, and answers the
   * method's `<method>_response` object (or throws the coded error). Parsing sits inside the
   * observed call, so a malformed answer counts as that call's failure.
   */
  function call(op: Op, batchSize: number, method: string, business: Record<string, string | number>): Promise<JsonObject> {
    return observer.call({ source: SOURCE, operation: op.operation, account: op.account, batchSize }, async () => {
      const params: Record<string, string> = {
        method,
        app_key: options.appKey,
        session: options.session,
        timestamp: topTime(Date.now()),
        format: 'json',
        v: '2.0',
        sign_method: 'md5',
      };
      for (const [k, v] of Object.entries(business)) params[k] = String(v);
      params.sign = topSign(params, options.appSecret);
      const body = await transport.getJson(PATH, params);
      const request = `${method}`;
      if (body.error_response != null) {
        const err = body.error_response;
        if (typeof err !== 'object' || Array.isArray(err)) throw badResponse(SOURCE, request, '"error_response" is not an object');
        throw topError(SOURCE, method, err as JsonObject);
      }
      const key = `${method.replace(/^taobao\./, '').replace(/\./g, '_')}_response`;
      const answer = body[key];
      if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) throw badResponse(SOURCE, request, `"${key}" is missing`);
      return answer as JsonObject;
    });
  }

  /** Every page of one filtered listing (trades or refunds, which page alike), in the API's order. */
  async function pages(op: Op, batchSize: number, method: string, params: Record<string, string | number>, outer: string, inner: string) {
    const rows: JsonObject[] = [];
    for (let page = 1; ; page++) {
      const body = await call(op, batchSize, method, { ...params, page_no: page, page_size: API_MAX_PAGE, use_has_next: 'true' });
      rows.push(...nested(SOURCE, body, outer, inner, method));
      if (body.has_next === false || body.has_next == null) break;
      if (body.has_next !== true) throw badResponse(SOURCE, method, '"has_next" is not a boolean');
      if (page >= MAX_PAGES) throw badResponse(SOURCE, method, `more than ${MAX_PAGES} pages`);
    }
    return rows;
  }

  /**
   * Every page of one listing, the first asked for `total_results` (TOP answers it when
   * `use_has_next` is off) and the rest then fetched LISTING_CONCURRENCY at a time. For whole-base
   * reads (filter pushdown), which would otherwise take one round trip per page in turn.
   */
  async function allPages(op: Op, method: string, params: Record<string, string | number>, outer: string, inner: string) {
    const first = await call(op, 0, method, { ...params, page_no: 1, page_size: API_MAX_PAGE });
    const total = first.total_results;
    if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) return pages(op, 0, method, params, outer, inner);
    const count = Math.ceil(total / API_MAX_PAGE);
    if (count > MAX_PAGES) throw badResponse(SOURCE, method, `more than ${MAX_PAGES} pages`);
    const rest: JsonObject[][] = new Array(Math.max(0, count - 1));
    let next = 2;
    const worker = async () => {
      while (next <= count) {
        const page = next++;
        rest[page - 2] = nested(SOURCE, await call(op, 0, method, { ...params, page_no: page, page_size: API_MAX_PAGE }), outer, inner, method);
      }
    };
    await Promise.all(Array.from({ length: LISTING_CONCURRENCY }, worker));
    return [...nested(SOURCE, first, outer, inner, method), ...rest.flat()];
  }

  // ---- the whole base, compact (filter pushdown, RFM) ----

  /** Pages the last whole-base read took (trades + refunds), or its listings' size as asked (`orderFactsPages`): what the next one will take. */
  let basePages: number | null = null;
  const pagesOf = (rows: number) => Math.max(1, Math.ceil(rows / API_MAX_PAGE));
  let base: { value: Base; at: number } | null = null;
  let baseLoading: Promise<Base> | null = null;

  /** Every counted trade (not cancelled, each once) and the SUCCESS refunds per tid, read through the listings. */
  async function loadBase(op: Op): Promise<Base> {
    const [rawTrades, rawRefunds] = await Promise.all([
      allPages(op, 'taobao.trades.sold.get', { fields: TRADE_FIELDS }, 'trades', 'trade'),
      allPages(op, 'taobao.refunds.receive.get', { fields: REFUND_FIELDS, status: 'SUCCESS' }, 'refunds', 'refund'),
    ]);
    basePages = pagesOf(rawTrades.length) + pagesOf(rawRefunds.length);
    // Pages read concurrently may overlap when the listing moves meanwhile: each trade and refund counts once.
    // A row that cannot be read is counted, not skipped: without it every figure over the base (a buyer's
    // net spend, the quintiles) would be a wrong number that looks right (see `readBase`).
    let unreadable = 0;
    const refunded = new Map<string, number>();
    const seenRefunds = new Set<string>();
    for (const r of rawRefunds.map(toRefund)) {
      if (r instanceof Error) unreadable += 1;
      if (r instanceof Error || seenRefunds.has(r.id)) continue;
      seenRefunds.add(r.id);
      refunded.set(r.orderId, (refunded.get(r.orderId) ?? 0) + toCents(r.amount));
    }
    const trades: BaseTrade[] = [];
    const seenTrades = new Set<string>();
    for (const t of rawTrades.map(toTrade)) {
      if (t instanceof Error) unreadable += 1;
      if (t instanceof Error || t.order.status === CANCELLED || seenTrades.has(t.order.id)) continue;
      seenTrades.add(t.order.id);
      const lines = t.lines.filter((l): l is OrderLine => !(l instanceof Error));
      unreadable += t.lines.length - lines.length;
      const categories = [...new Set(lines.map((l) => l.category))];
      trades.push({ buyer: t.order.accountId, at: Date.parse(t.order.placedAt), net: toCents(t.order.total) - (refunded.get(t.order.id) ?? 0), categories });
    }
    const value = { trades, unreadable };
    if (trades.length <= BASE_MAX_TRADES) base = { value, at: Date.now() };
    return value;
  }

  /**
   * The whole base's trades, for a figure over it; a base with an unreadable trade, line or refund
   * answers SOURCE_BAD_RESPONSE instead (the rows' count only, no buyer): which buyers a bad row
   * belongs to is not always known, and quintiles or a filter computed without it would be wrong for
   * them and look right. Per-buyer reads (summaries, orders) still answer every buyer they can read.
   */
  async function readBase(op: Op): Promise<BaseTrade[]> {
    const { trades, unreadable } = await wholeBase(op);
    if (unreadable > 0)
      throw new SourceError(
        SOURCE,
        'SOURCE_BAD_RESPONSE',
        `${SOURCE}: ${unreadable} unreadable trade, line or refund row(s) in the whole order base; ${op.operation} would leave them out`,
      );
    return trades;
  }

  /** The whole base: kept for BASE_TTL_MS; one read in flight at a time (its calls counted under the operation, and booked to the request, that asked first). */
  function wholeBase(op: Op): Promise<Base> {
    if (base && Date.now() - base.at < BASE_TTL_MS) return Promise.resolve(base.value);
    return (baseLoading ??= loadBase(op).finally(() => {
      baseLoading = null;
    }));
  }

  /**
   * Chunks of unique valid keys, run concurrently (each chunk's pages are its observed calls);
   * the rows grouped by `key`, and the keys whose chunk failed (see `byChunk`).
   */
  async function byKeys(
    keys: readonly string[],
    valid: (k: string) => boolean,
    fetch: (chunk: string[]) => Promise<JsonObject[]>,
    key: (r: JsonObject) => string | null,
  ): Promise<Rows> {
    const { answers, failed } = await byChunk([...new Set(keys.filter(valid))], maxBatch, fetch);
    return { by: groupBy(answers, key), failed };
  }

  /** Trades by buyer; `fields` TRADE_FIELDS when the lines are needed, else the lighter SUMMARY_FIELDS. */
  const tradesOfBuyers = (op: Op, ids: readonly string[], extra: Record<string, string> = {}, fields = SUMMARY_FIELDS) =>
    byKeys(
      ids,
      isBuyerId,
      (chunk) => pages(op, chunk.length, 'taobao.trades.sold.get', { fields, buyer_open_uid: chunk.join(','), ...extra }, 'trades', 'trade'),
      (r) => text(r.buyer_open_uid),
    );
  const refundsOfBuyers = (op: Op, ids: readonly string[]) =>
    byKeys(
      ids,
      isBuyerId,
      (chunk) => pages(op, chunk.length, 'taobao.refunds.receive.get', { fields: REFUND_FIELDS, status: 'SUCCESS', buyer_open_uid: chunk.join(',') }, 'refunds', 'refund'),
      (r) => text(r.buyer_open_uid),
    );

  /** Per buyer: its trades read and its successful refunds by tid, one pass over both listings; a buyer whose chunk of either failed answers that error. */
  async function ledgers(op: Op, ids: readonly string[]): Promise<Map<string, Ledger | SourceError>> {
    const [trades, refunds] = await Promise.all([tradesOfBuyers(op, ids), refundsOfBuyers(op, ids)]);
    const out = new Map<string, Ledger | SourceError>();
    for (const id of new Set(ids)) {
      const failed = trades.failed.get(id) ?? refunds.failed.get(id);
      if (failed) {
        out.set(id, failed);
        continue;
      }
      const ts = trades.by.get(id);
      if (!ts) continue;
      const rs = (refunds.by.get(id) ?? []).map((r) => toRefund(r));
      out.set(
        id,
        ledgerOf(
          ts.map((t) => toTrade(t)),
          rs,
        ),
      );
    }
    return out;
  }

  // ---- conversions (closures: they know the source name, currency, channel and categories) ----

  function toTrade(t: JsonObject): Slot<Trade> {
    const id = idOf(t, 'tid');
    if (!id) return badRow(SOURCE, 'order', 'tid is missing');
    const buyer = text(t.buyer_open_uid);
    if (!buyer) return badRow(SOURCE, 'order', 'buyer_open_uid is missing');
    const total = moneyFromDecimal(t.payment, currency);
    if (!total) return badRow(SOURCE, 'order', 'payment is not an amount in the shop currency');
    if (total.amount.startsWith('-')) return badRow(SOURCE, 'order', 'payment is negative (a refund returns money as a refund)');
    const placedAt = instantFromShanghaiLocal(t.created);
    if (!placedAt) return badRow(SOURCE, 'order', 'created is not a TOP time');
    const paidAt = t.pay_time == null || t.pay_time === '' ? null : instantFromShanghaiLocal(t.pay_time);
    if (paidAt === null && t.pay_time != null && t.pay_time !== '') return badRow(SOURCE, 'order', 'pay_time is not a TOP time');
    const mapped = typeof t.status === 'string' && Object.hasOwn(STATUS, t.status) ? STATUS[t.status] : undefined;
    if (mapped === undefined) return badRow(SOURCE, 'order', 'status is not a TOP trade status');
    const status = typeof mapped === 'function' ? mapped(paidAt != null) : mapped;
    const lines = nested(SOURCE, t, 'orders', 'order', 'trade').map((o) => toLine(o, id));
    const order: Order = { source: SOURCE, id, accountId: buyer, status, channel, total, placedAt, paidAt };
    return { order, lines };
  }

  function toLine(o: JsonObject, tid: string): Slot<OrderLine> {
    const id = idOf(o, 'oid');
    if (!id) return badRow(SOURCE, 'order line', 'oid is missing');
    const unitPrice = moneyFromDecimal(o.price, currency);
    if (!unitPrice) return badRow(SOURCE, 'order line', 'price is not an amount in the shop currency');
    if (unitPrice.amount.startsWith('-')) return badRow(SOURCE, 'order line', 'price is negative');
    const quantity = typeof o.num === 'number' ? o.num : Number(o.num);
    if (!Number.isSafeInteger(quantity) || quantity < 0) return badRow(SOURCE, 'order line', 'num is not an integer');
    const cid = o.cid == null ? null : String(o.cid);
    return {
      id,
      orderId: tid,
      sku: text(o.outer_sku_id) ?? text(o.sku_id) ?? (o.num_iid == null ? '' : String(o.num_iid)),
      name: typeof o.title === 'string' ? o.title : '',
      category: cid == null ? '' : (categories[cid] ?? `cid:${cid}`),
      quantity,
      unitPrice,
    };
  }

  function toRefund(r: JsonObject): Slot<Refund> {
    const id = idOf(r, 'refund_id');
    if (!id) return badRow(SOURCE, 'refund', 'refund_id is missing');
    const orderId = idOf(r, 'tid');
    if (!orderId) return badRow(SOURCE, 'refund', 'tid is missing');
    const amount = moneyFromDecimal(r.refund_fee, currency);
    if (!amount) return badRow(SOURCE, 'refund', 'refund_fee is not an amount in the shop currency');
    // Subtracted, a negative refund would add to what the buyer spent.
    if (amount.amount.startsWith('-')) return badRow(SOURCE, 'refund', 'refund_fee is negative (a refund returns money; its amount is positive)');
    // A SUCCESS refund's last modification is the moment it succeeded (created is the application).
    const refundedAt = instantFromShanghaiLocal(r.modified);
    if (!refundedAt) return badRow(SOURCE, 'refund', 'modified is not a TOP time');
    return { id, orderId, amount, reason: text(r.reason), refundedAt };
  }

  function toBuyer(m: JsonObject, id: string): Slot<MarketplaceBuyer> {
    const optionalTime = (v: unknown, field: string): Instant | null | Error => {
      if (v == null || v === '') return null;
      return instantFromShanghaiLocal(v) ?? badRow(SOURCE, 'buyer', `${field} is not a TOP time`);
    };
    const memberSince = optionalTime(m.join_time, 'join_time');
    const first = optionalTime(m.first_trade_time, 'first_trade_time');
    const last = optionalTime(m.last_trade_time, 'last_trade_time');
    const updated = optionalTime(m.modified, 'modified');
    for (const t of [memberSince, first, last, updated]) if (t instanceof Error) return t as SourceError;
    const grade = wholeNumber(m.grade);
    if (grade === undefined || (grade !== null && grade > 4)) return badRow(SOURCE, 'buyer', 'grade is not 0..4');
    const count = wholeNumber(m.trade_count);
    if (count === undefined) return badRow(SOURCE, 'buyer', 'trade_count is not a whole number');
    return {
      source: SOURCE,
      id,
      nick: text(m.buyer_nick),
      // Only members' numbers are the buyer's own; anything virtual or masked is dropped here.
      phone: memberSince ? realPhone(m.mobile) : null,
      channel,
      grade,
      memberSince: memberSince as Instant | null,
      firstOrderAt: first as Instant | null,
      lastOrderAt: last as Instant | null,
      tradeCount: count,
      updatedAt: updated as Instant | null,
    };
  }

  function toScanned(m: JsonObject): ScannedRecord | null {
    const id = text(m.buyer_open_uid);
    const updatedAt = instantFromShanghaiLocal(m.modified);
    if (!id || !isBuyerId(id) || !updatedAt) return null;
    const phone = m.join_time ? realPhone(m.mobile) : null;
    return { source: SOURCE, recordId: id, updatedAt, identifiers: phone ? [{ kind: 'PHONE', value: phone }] : [] };
  }

  async function members(op: Op, ids: readonly string[]) {
    return byKeys(
      ids,
      isBuyerId,
      async (chunk) =>
        nested(
          SOURCE,
          await call(op, chunk.length, 'taobao.crm.members.search', { buyer_open_uid: chunk.join(','), current_page: 1, page_size: API_MAX_PAGE }),
          'members',
          'basic_member',
          'taobao.crm.members.search',
        ),
      (r) => text(r.buyer_open_uid),
    );
  }

  // ---- event building over one buyer's ledger ----

  function eventsOf(buyer: string, l: Ledger, kinds: readonly EventKind[]): Slot<SourceEvent>[] {
    const out: Slot<SourceEvent>[] = [...l.bad];
    for (const t of l.trades) {
      const o = t.order;
      const base = { recordId: buyer, refId: o.id, amount: o.total, channel: o.channel, status: o.status };
      if (kinds.includes('order_placed')) out.push({ kind: 'order_placed', at: o.placedAt, id: o.id, ...base });
      if (kinds.includes('order_paid') && o.paidAt) out.push({ kind: 'order_paid', at: o.paidAt, id: o.id, ...base });
      if (kinds.includes('order_refunded'))
        for (const r of l.refunds.get(o.id) ?? [])
          out.push({
            kind: 'order_refunded',
            at: r.refundedAt,
            id: r.id,
            recordId: buyer,
            refId: o.id,
            amount: r.amount,
            channel: o.channel,
            status: o.status,
            title: r.reason,
          });
    }
    return out;
  }

  return {
    name: SOURCE,
    maxBatch,
    channel,
    currency,

    async buyersByIds(ids, account) {
      const { by, failed } = await members({ operation: 'buyersByIds', account }, ids);
      return ids.map((id) => {
        const m = by.get(id)?.[0];
        return failed.get(id) ?? (m ? toBuyer(m, id) : null);
      });
    },

    /** Newest first per buyer (created, then tid), as TOP lists them; `limit` cut here, `since` pushed down as start_created. */
    async ordersByBuyerIds(ids, query: OrderQuery = {}, account?: SourceAccount) {
      const since = instantArgumentMillis(query.since, 'since');
      const limit = limitArgument(query.limit);
      // TOP keeps whole seconds: an order at second s is at or after `since` iff s ≥ ceil(since).
      const extra: Record<string, string> = since == null ? {} : { start_created: topTime(Math.ceil(since / 1000) * 1000) };
      const { by, failed } = await tradesOfBuyers({ operation: 'ordersByBuyerIds', account }, ids, extra);
      return ids.map((id) => {
        const error = failed.get(id);
        if (error) return error;
        const orders = (by.get(id) ?? []).map((t) => {
          const x = toTrade(t);
          return x instanceof Error ? x : x.order;
        });
        const good = orders.filter((o): o is Order => !(o instanceof Error)).sort(newestFirst);
        const bad = orders.filter((o) => o instanceof Error);
        return [...(limit == null ? good : good.slice(0, limit)), ...bad];
      });
    },

    /** Aggregates computed over the buyer's trades and SUCCESS refunds (TOP has no aggregate endpoint); the SQL shop's definitions. */
    async orderSummariesByBuyerIds(ids, query: SummaryQuery, account) {
      const windows = summarySpan(SOURCE, query);
      const by = await ledgers({ operation: 'orderSummariesByBuyerIds', account }, ids);
      return ids.map((id) => {
        const l = by.get(id);
        if (l instanceof Error) return l;
        return l ? summaryOf(SOURCE, id, l, currency, windows) : null;
      });
    },

    /** By tid, in oid order. A trade that is not found answers []. */
    async linesByOrderIds(ids, account) {
      const { by, failed } = await byKeys(
        ids,
        isNumericId,
        (chunk) => pages({ operation: 'linesByOrderIds', account }, chunk.length, 'taobao.trades.sold.get', { fields: TRADE_FIELDS, tid: chunk.join(',') }, 'trades', 'trade'),
        (r) => idOf(r, 'tid'),
      );
      return ids.map((id) => {
        const error = failed.get(id);
        if (error) return error;
        const t = by.get(id)?.[0];
        if (!t) return [];
        const x = toTrade(t);
        if (x instanceof Error) return [x];
        return [...x.lines].sort((a, b) => (a instanceof Error || b instanceof Error ? 0 : a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
      });
    },

    /** SUCCESS refunds by tid, oldest first. */
    async refundsByOrderIds(ids, account) {
      const { by, failed } = await byKeys(
        ids,
        isNumericId,
        (chunk) =>
          pages(
            { operation: 'refundsByOrderIds', account },
            chunk.length,
            'taobao.refunds.receive.get',
            { fields: REFUND_FIELDS, status: 'SUCCESS', tid: chunk.join(',') },
            'refunds',
            'refund',
          ),
        (r) => idOf(r, 'tid'),
      );
      return ids.map(
        (id) =>
          failed.get(id) ??
          (by.get(id) ?? [])
            .map(toRefund)
            .sort((a, b) => (a instanceof Error || b instanceof Error ? 0 : Date.parse(a.refundedAt) - Date.parse(b.refundedAt) || compareId(a.id, b.id))),
      );
    },

    /** Counted trades (not cancelled, placed by `asOf.now`) per category: orders with a line in it, units bought. */
    async categoryStatsByBuyerIds(ids, asOf: AsOf, account) {
      const end = countedUntil(SOURCE, 'categoryStatsByBuyerIds', asOf);
      const { by, failed } = await tradesOfBuyers({ operation: 'categoryStatsByBuyerIds', account }, ids, {}, TRADE_FIELDS);
      return ids.map((id) => {
        const error = failed.get(id);
        if (error) return error;
        const stats = new Map<string, { orders: Set<string>; quantity: number }>();
        const bad: SourceError[] = [];
        for (const raw of by.get(id) ?? []) {
          const t = toTrade(raw);
          if (t instanceof Error) {
            bad.push(t);
            continue;
          }
          if (t.order.status === CANCELLED || Date.parse(t.order.placedAt) > end) continue;
          for (const line of t.lines) {
            if (line instanceof Error) {
              bad.push(line);
              continue;
            }
            let s = stats.get(line.category);
            if (!s) stats.set(line.category, (s = { orders: new Set(), quantity: 0 }));
            s.orders.add(t.order.id);
            s.quantity += line.quantity;
          }
        }
        const list: CategoryStat[] = [...stats].map(([category, s]) => ({ category, orders: s.orders.size, quantity: s.quantity }));
        list.sort((x, y) => y.orders - x.orders || y.quantity - x.quantity || (x.category < y.category ? -1 : x.category > y.category ? 1 : 0));
        return [...list, ...bad];
      });
    },

    /**
     * Per buyer, the newest `limit` events strictly after the position: built from the trades
     * and refunds (TOP has no event feed), cut with the shared event order so pages never skip
     * or repeat. Refunds are asked only when `order_refunded` is wanted.
     */
    async eventsByBuyerIds(ids, query: EventQuery, account) {
      checkEventQuery(SOURCE, query);
      const kinds = kindsWanted(MARKETPLACE_EVENT_KINDS, query.kinds);
      if (kinds.length === 0) return ids.map(() => []);
      const sinceMs = query.since == null ? null : Date.parse(query.since);
      const [trades, refunds] = await Promise.all([
        tradesOfBuyers({ operation: 'eventsByBuyerIds', account }, ids),
        kinds.includes('order_refunded') ? refundsOfBuyers({ operation: 'eventsByBuyerIds', account }, ids) : Promise.resolve<Rows>({ by: new Map(), failed: NONE_FAILED }),
      ]);
      return ids.map((id) => {
        const error = trades.failed.get(id) ?? refunds.failed.get(id);
        if (error) return error;
        const ts = trades.by.get(id);
        if (!ts) return [];
        const l = ledgerOf(ts.map(toTrade), (refunds.by.get(id) ?? []).map(toRefund));
        const all = eventsOf(id, l, kinds);
        // Trades and refunds that cannot be read have no place in the order: after the events, outside the limit.
        const bad = all.filter((e): e is SourceError => e instanceof Error).map(unplaced);
        const good = (all.filter((e) => !(e instanceof Error)) as SourceEvent[])
          .filter((e) => (sinceMs == null || Date.parse(e.at) >= sinceMs) && (!query.after || isAfter(e, query.after)))
          .sort(compareEvents);
        return [...good.slice(0, query.limit), ...bad];
      });
    },

    /**
     * Filter pushdown over the whole base, in the API's own terms: the trade and SUCCESS refund
     * listings paged (100 a call, LISTING_CONCURRENCY at once), aggregated here per buyer, and
     * kept compact for BASE_TTL_MS (see there). Calls grow with the base, never with the number
     * of buyers that match; within the TTL a query of any window, channel or category makes
     * none. A channel other than this shop's answers at once: nothing here was sold there.
     */
    async orderFacts(query: OrderFactQuery, account?: SourceAccount): Promise<OrderFact[]> {
      if (query.channels?.length && !query.channels.includes(channel)) return [];
      const sinceMs = instantArgumentMillis(query.since, 'since');
      const beforeMs = instantArgumentMillis(query.before, 'before');
      const trades = await readBase({ operation: 'orderFacts', account });
      const per = new Map<string, { recordId: string; orders: number; spentCents: number; first: number; last: number }>();
      for (const t of trades) {
        if ((sinceMs != null && t.at < sinceMs) || (beforeMs != null && t.at >= beforeMs)) continue;
        if (query.categories?.length && !t.categories.some((c) => query.categories!.includes(c))) continue;
        let f = per.get(t.buyer);
        if (!f) per.set(t.buyer, (f = { recordId: t.buyer, orders: 0, spentCents: 0, first: t.at, last: t.at }));
        f.orders += 1;
        f.spentCents += t.net;
        if (t.at < f.first) f.first = t.at;
        if (t.at > f.last) f.last = t.at;
      }
      return [...per.values()].map((f) => ({
        recordId: f.recordId,
        orders: f.orders,
        spentCents: f.spentCents,
        currency,
        firstOrderAt: new Date(f.first).toISOString(),
        lastOrderAt: new Date(f.last).toISOString(),
      }));
    },

    orderFactsCalls() {
      return base && Date.now() - base.at < BASE_TTL_MS ? 0 : basePages;
    },

    /** A listing's size is one cheap call away, and buyers trade more than once: no count of buyers tells its pages (docs/bi.md). */
    async orderFactsPages(account?: SourceAccount) {
      if (basePages !== null) return basePages;
      const total = async (method: string, params: Record<string, string | number>, key: string) => {
        const answer = await call({ operation: 'orderFactsPages', account }, 0, method, { ...params, page_no: 1, page_size: 1 });
        const n = answer.total_results;
        if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw badResponse(SOURCE, method, `"total_results" is not a count of ${key}`);
        return n;
      };
      const [trades, refunds] = await Promise.all([
        total('taobao.trades.sold.get', { fields: 'tid' }, 'trades'),
        total('taobao.refunds.receive.get', { fields: 'refund_id', status: 'SUCCESS' }, 'refunds'),
      ]);
      // A listing read meanwhile counted its own pages: those stand.
      basePages ??= pagesOf(trades) + pagesOf(refunds);
      return basePages;
    },

    /**
     * Quintile boundaries over the whole base (the same compact read as `orderFacts`, and its
     * cache), over the trades placed by `asOf.now`, as every summary figure counts them. Costly on a
     * big shop; the gateway caches the answer (src/insights/rfm-cache.ts).
     */
    async rfmBoundaries(asOf: AsOf, account) {
      const end = countedUntil(SOURCE, 'rfmBoundaries', asOf);
      const trades = await readBase({ operation: 'rfmBoundaries', account });
      const per = new Map<string, { f: number; m: number; rc: number }>();
      for (const t of trades) {
        if (t.at > end) continue;
        const a = per.get(t.buyer) ?? { f: 0, m: 0, rc: 0 };
        a.f += 1;
        a.m += t.net;
        a.rc = Math.max(a.rc, t.at);
        per.set(t.buyer, a);
      }
      const rows = [...per.values()];
      const upper = (vals: number[]) => ntileUpperBounds(vals);
      return {
        accounts: rows.length,
        recency: upper(rows.map((r) => r.rc)).map((ms) => new Date(ms).toISOString()),
        frequency: upper(rows.map((r) => r.f)),
        monetary: upper(rows.map((r) => r.m)),
        currency: rows.length ? currency : null,
        computedAt: new Date().toISOString(),
      };
    },

    /**
     * The identity feed: taobao.crm.members.increment.get in (modified, buyer_open_uid) order.
     * TOP pages by page number within a modified window; the cursor keeps the last buyer seen
     * and its second, so a resumed scan starts at that second and skips what it already gave,
     * and a second holding more than a page of buyers is walked by page number.
     */
    async scan(cursor, pageSize) {
      const size = Math.min(API_MAX_PAGE, Math.max(1, Math.floor(pageSize ?? defaultPage)));
      const pos = decodeCursor(SOURCE, cursor);
      const method = 'taobao.crm.members.increment.get';
      const body = await call({ operation: 'scan' }, size, method, {
        start_modify: topTime(pos.m * 1000),
        end_modify: topTime(Date.now() + DAY_MS),
        current_page: pos.p,
        page_size: size,
      });
      const items = nested(SOURCE, body, 'members', 'basic_member', method);
      const total = Number(body.total_result ?? 0);
      if (!Number.isSafeInteger(total)) throw badResponse(SOURCE, method, '"total_result" is not an integer');
      const keyed = items
        .map((m) => ({ m, sec: secondsOf(m.modified), uid: text(m.buyer_open_uid) }))
        .filter((x): x is { m: JsonObject; sec: number; uid: string } => x.sec != null && x.uid != null);
      const fresh = keyed.filter((x) => x.sec > pos.m || (x.sec === pos.m && (pos.u == null || x.uid > pos.u)));
      const more = pos.p * size < total;
      let next = pos;
      if (keyed.length) {
        const last = keyed[keyed.length - 1];
        // A page wholly within the cursor's second moves on to the next page only when there is
        // one. The last page stays put: later changes join the window after it, and a page
        // number past the end would start past the first of them (a re-run that found nothing
        // new used to step there, and the changes after it were never read).
        next =
          last.sec > pos.m
            ? { m: last.sec, u: keyed.filter((x) => x.sec === last.sec).reduce((a, x) => (x.uid > a ? x.uid : a), last.uid), p: 1 }
            : { m: pos.m, u: [pos.u ?? '', ...keyed.map((x) => x.uid)].reduce((a, b) => (b > a ? b : a)), p: more ? pos.p + 1 : pos.p };
      }
      const records = fresh.map((x) => toScanned(x.m)).filter((r): r is ScannedRecord => r !== null);
      // A buyer without a readable id or modification time, and one of the window's that toScanned cannot read.
      const malformed = items.length - keyed.length + fresh.length - records.length;
      return { records, cursor: encodeCursor(next), done: !more, malformed } satisfies ScanPage;
    },

    /** Every key or none: a key answered null here is a buyer the shop no longer has, never a chunk that failed. */
    async scanRecords(recordIds) {
      // Asked by a change notification: the whole base kept for pushdown may be out of date.
      base = null;
      const { by, failed } = await members({ operation: 'scanRecords' }, recordIds);
      noneFailed(failed);
      return recordIds.map((id) => {
        const m = by.get(id)?.[0];
        return m ? (toScanned(m) ?? unreadableRecord(SOURCE)) : null;
      });
    },

    async health() {
      await call({ operation: 'health' }, 0, 'taobao.time.get', {});
    },

    async close() {},
  };
}

// ---------- pure helpers ----------

/** Rows of a chunked read by key, and the keys whose chunk failed. */
interface Rows {
  by: Map<string, JsonObject[]>;
  failed: ReadonlyMap<string, SourceError>;
}

/** One counted trade of the whole base, compact: what pushdown and RFM aggregate. */
interface BaseTrade {
  buyer: string;
  /** Placed, unix ms. */
  at: number;
  /** Total less its SUCCESS refunds, in cents. */
  net: number;
  categories: readonly string[];
}

interface Base {
  trades: BaseTrade[];
  /** Trades, lines and refunds the listings returned that could not be read (left out of `trades`). */
  unreadable: number;
}

interface Trade {
  order: Order;
  lines: Slot<OrderLine>[];
}

/** One buyer's trades and their refunds, read. */
interface Ledger {
  trades: Trade[];
  refunds: Map<string, Refund[]>;
  bad: SourceError[];
}

function ledgerOf(trades: Slot<Trade>[], refunds: Slot<Refund>[]): Ledger {
  const bad: SourceError[] = [];
  const good: Trade[] = [];
  for (const t of trades) (t instanceof Error ? bad : good).push(t as never);
  const byOrder = new Map<string, Refund[]>();
  for (const r of refunds) {
    if (r instanceof Error) {
      bad.push(r);
      continue;
    }
    const list = byOrder.get(r.orderId) ?? [];
    list.push(r);
    byOrder.set(r.orderId, list);
  }
  return { trades: good, refunds: byOrder, bad };
}

/**
 * The SQL shop's definitions over counted orders (not cancelled): orderCount; totalSpent =
 * their totals less their refunds; refundedAmount; first/last placed; with windows, the gross,
 * the refunded-order count and the per-window counts (placed within [now - days, now]); all over
 * trades placed by the request time.
 */
function summaryOf(source: SourceName, id: string, l: Ledger, currency: string, w: SummarySpan): Slot<OrderSummary> {
  if (l.bad.length) return l.bad[0];
  // A trade dated after the request is not counted yet (summary-span.ts), in any figure.
  const counted = l.trades.filter((t) => t.order.status !== CANCELLED && placedBy(Date.parse(t.order.placedAt), w));
  const gross: Money[] = counted.map((t) => t.order.total);
  const refundsOf = (t: Trade) => l.refunds.get(t.order.id) ?? [];
  const refunded: Money[] = counted.flatMap((t) => refundsOf(t).map((r) => r.amount));
  const grossSpent = addMoney(gross, currency);
  const refundedAmount = addMoney(refunded, currency);
  const placed = counted.map((t) => Date.parse(t.order.placedAt));
  const totalSpent = moneyFromCents(toCents(grossSpent) - toCents(refundedAmount), currency);
  if (!totalSpent) return badRow(source, 'order summary', 'totals are not money');
  return {
    accountId: id,
    orderCount: counted.length,
    totalSpent,
    refundedAmount,
    firstOrderAt: placed.length ? new Date(Math.min(...placed)).toISOString() : null,
    lastOrderAt: placed.length ? new Date(Math.max(...placed)).toISOString() : null,
    grossSpent,
    refundedOrderCount: counted.filter((t) => refundsOf(t).length > 0).length,
    recentOrderCounts: w.starts.map((start) => placed.filter((p) => p >= start && p <= w.end).length),
  };
}

const newestFirst = (a: Order, b: Order) => Date.parse(b.placedAt) - Date.parse(a.placedAt) || compareId(b.id, a.id);
const compareId = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

function secondsOf(v: unknown): number | null {
  const iso = instantFromShanghaiLocal(v);
  return iso ? Date.parse(iso) / 1000 : null;
}

/** Scan position: second `m` (unix), last buyer id given at it `u`, page `p` within that second. */
interface ScanPos {
  m: number;
  u: string | null;
  p: number;
}

/** TOP accepts no modified time before its own epoch; the feed starts there. */
const FEED_START = Date.UTC(2003, 4, 10) / 1000;

function encodeCursor(p: ScanPos): string {
  return CURSOR_PREFIX + Buffer.from(JSON.stringify(p)).toString('base64url');
}

function decodeCursor(source: SourceName, cursor: string | null): ScanPos {
  if (cursor == null) return { m: FEED_START, u: null, p: 1 };
  const fail = () => new Error(`${source} scan: the cursor was not made by this connector`);
  if (!cursor.startsWith(CURSOR_PREFIX)) throw fail();
  try {
    const p = JSON.parse(Buffer.from(cursor.slice(CURSOR_PREFIX.length), 'base64url').toString('utf8')) as ScanPos;
    if (!Number.isSafeInteger(p.m) || !Number.isSafeInteger(p.p) || p.p < 1 || (p.u !== null && typeof p.u !== 'string')) throw fail();
    return p;
  } catch {
    throw fail();
  }
}
