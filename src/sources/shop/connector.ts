/**
 * Orders connector: the shop's own SQL tables, `shop_accounts`, `orders`, `order_lines`, `refunds`.
 *
 * Keys: numeric `account_id` / `order_id`, which c360 carries as decimal strings
 * (`String(account_id)`); a key that is not the canonical decimal form of a safe integer
 * is unknown (null / []) and never reaches SQL. OneID record key `orders`/`account_id`.
 * Cost: one indexed SELECT per chunk of at most `maxBatch` keys (default 500, at most
 * MAX_IN_LIST), whatever the options: `ordersByRecordIds` applies `limit` per account with
 * a window function, `orderSummariesByRecordIds` aggregates orders and refunds in one
 * GROUP BY (with windowed counts when asked), `categoryStatsByRecordIds` is one GROUP BY, and
 * `eventsByRecordIds` is one UNION ALL of the event kinds ranked per account (timeline
 * pushdown). `rfmBoundaries` is one statement over the whole base, keyless: callers cache it.
 * `scan` is one keyset SELECT per page on the `(updated_at, account_id)` index.
 * The shop's formats (integer cents with a per-order currency, unix-millisecond times) are
 * known here and nowhere else.
 */
import type { CountryCode } from 'libphonenumber-js';
import type { SqlConnection } from '../../db';
import type { Knex } from 'knex';
import { badRow, SourceError, unreadableRecord } from '../../errors';
import { instantArgumentMillis, limitArgument } from '../arguments';
import { countedUntil, summarySpan, type SummarySpan } from '../summary-span';
import { currencyCode, DEFAULT_PHONE_REGION, instantFromMillis, moneyFromCents, normalizeEmail, normalizePhone } from '../../canonical';
import type { SourceObserver } from '../observe';
import {
  batchByKey,
  everyKey,
  checkMaxBatch,
  createSqlSource,
  keysetScan,
  groupConverted,
  integerOrNull,
  missingColumns,
  textOrNull,
  whereMatchesText,
  type BreakerOptions,
  type SqlSource,
} from '../sql';
import type { EventKind, EventQuery, RawIdentifier, ScannedRecord, Slot, SourceAccount, SourceEvent, SourceName } from '../../vocabulary';
import type { AsOf, CategoryStat, Order, OrderFact, OrderFactQuery, OrderLine, OrderQuery, OrderSummary, Refund, RfmBoundaries, SummaryQuery } from '../../capabilities';
import type { ShopAccount, ShopConnector } from './types';
import { checkEventQuery, eventConditionSql, kindBound, kindRank, kindsWanted, sinceInUnit } from '../../vocabulary/event-order';

export interface ShopConnectorOptions {
  /** The instance name: OneID source, metrics and errors (default `orders`). */
  name?: SourceName;
  connection: SqlConnection;
  /** Per-statement timeout. */
  timeoutMs?: number;
  /** Keys per statement; default 500. */
  maxBatch?: number;
  /** Region for phones typed without a country code; default CN. */
  defaultRegion?: CountryCode;
  breaker?: Partial<BreakerOptions>;
  /** How `refunds.amount_cents` is signed: `positive` (default, money returned), or `negative` (a ledger's sign), read as its magnitude. */
  refundSign?: RefundSign;
}

export const REFUND_SIGNS = ['positive', 'negative'] as const;
export type RefundSign = (typeof REFUND_SIGNS)[number];

/** A row of `shop_accounts`. */
export interface ShopAccountRow {
  account_id: number;
  mobile: string | null;
  member_no: string | null;
  email: string | null;
  channel: string;
  registered_at: number;
  updated_at: number;
}

/** A row of `orders`. */
export interface OrderRow {
  order_id: number;
  account_id: number;
  status: string;
  channel: string;
  total_cents: number;
  currency: string;
  placed_at: number;
  paid_at: number | null;
}

/** A row of `order_lines`, with its order's currency (lines carry none of their own). */
export interface OrderLineRow {
  line_id: number;
  order_id: number;
  sku: string;
  name: string;
  category: string;
  qty: number;
  unit_price_cents: number;
  currency: string | null;
}

/** A row of `refunds`, with its order's currency. */
export interface RefundRow {
  refund_id: number;
  order_id: number;
  amount_cents: number;
  reason: string | null;
  refunded_at: number;
  currency: string | null;
}

/** One row of the summary GROUP BY. Aggregates arrive as numbers or numeric strings (MariaDB DECIMAL). */
interface OrderSummaryRow {
  account_id: number;
  order_count: unknown;
  gross_cents: unknown;
  refunded_cents: unknown;
  first_placed: unknown;
  last_placed: unknown;
  currency_min: string | null;
  currency_max: string | null;
  any_currency: string | null;
  /** The smallest counted order total and refund: below zero, the summary cannot be counted. */
  least_total: unknown;
  least_refund: unknown;
  /** Present when asked with a SummaryQuery. */
  refunded_orders?: unknown;
  /** w0, w1, …: counted orders per window, when asked with a SummaryQuery. */
  [window: `w${number}`]: unknown;
}

/** One row of the category GROUP BY. */
interface CategoryRow {
  account_id: number;
  category: string;
  orders: unknown;
  quantity: unknown;
}

/** One row of the events statement: every kind's rows in one shape. */
interface EventRow {
  account_id: number;
  kind_rank: unknown;
  at: unknown;
  id: number;
  ref_id: number | null;
  amount_cents: unknown;
  currency: string | null;
  channel: string | null;
  status: string | null;
  title: string | null;
}

/** One row of the boundaries statement: a quintile's largest value on one dimension, or the base's size and currency. */
interface BoundaryRow {
  dim: string;
  tile: unknown;
  v: unknown;
  cur: string | null;
}

/** The timeline event kinds this system emits. */
export const SHOP_EVENTS: readonly EventKind[] = ['account_registered', 'order_paid', 'order_placed', 'order_refunded'];

/** The instance name when the options name none (the demo's). */
const DEFAULT_NAME = 'orders';
const CANCELLED = 'cancelled';
/**
 * A refund's amount (`r` is the refund) as SQL, money returned counted positive: `amount_cents` as
 * stored, or negated for a shop whose refunds are written negative (`refundSign`). One of two fixed
 * expressions, never text from config. Every figure reads refunds through it, so such a shop's
 * refunds are its magnitudes everywhere, and a refund of the other sign is a row error as before.
 */
const REFUND_CENTS: Readonly<Record<RefundSign, string>> = { positive: 'r.amount_cents', negative: '(0 - r.amount_cents)' };
/** An order's refunds (`o` is the order), for the order summary: their sum (null without any), whether it has any. */
const orderRefundedCents = (refund: string) => `select sum(${refund}) from refunds as r where r.order_id = o.order_id`;
const ORDER_REFUND_ROWS = 'select 1 from refunds as r where r.order_id = o.order_id';
/** An order's smallest refund (`o` is the order): below zero, the refund adds money instead of returning it. */
const orderLeastRefund = (refund: string) => `select min(${refund}) from refunds as r where r.order_id = o.order_id`;
/** What a negative order total or refund is: a row the figures cannot count (a ledger's sign, a reversal), never money added to a customer's spend. */
const NEGATIVE_AMOUNT = 'a negative order total or refund (a refund returns money; its amount is positive)';

const ACCOUNT_COLUMNS = ['account_id', 'mobile', 'member_no', 'email', 'channel', 'registered_at', 'updated_at'] as const;
const ORDER_COLUMNS = ['order_id', 'account_id', 'status', 'channel', 'total_cents', 'currency', 'placed_at', 'paid_at'] as const;
/** Every table and column this connector reads: the start-up check's list. */
const TABLES = {
  shop_accounts: ACCOUNT_COLUMNS,
  orders: ORDER_COLUMNS,
  order_lines: ['line_id', 'order_id', 'sku', 'name', 'category', 'qty', 'unit_price_cents'],
  refunds: ['refund_id', 'order_id', 'amount_cents', 'reason', 'refunded_at'],
};

/** The canonical decimal string of a safe integer, which is how c360 spells these keys. */
function isNumericKey(key: string): boolean {
  if (!/^-?(0|[1-9]\d{0,15})$/.test(key)) return false;
  return Number.isSafeInteger(Number(key));
}

export function createShopConnector(opts: ShopConnectorOptions, observer: SourceObserver): ShopConnector {
  const SOURCE: SourceName = opts.name ?? DEFAULT_NAME;
  const maxBatch = checkMaxBatch(SOURCE, opts.maxBatch ?? 500);
  const sql = createSqlSource({ source: SOURCE, connection: opts.connection, timeoutMs: opts.timeoutMs, breaker: opts.breaker });
  const REFUND = REFUND_CENTS[opts.refundSign ?? 'positive'];

  /** `batchByKey` over numeric keys: the chunk is bound as numbers, answers are keyed by `String(id)`. */
  function byNumericKey<V>(
    operation: string,
    ids: readonly string[],
    account: SourceAccount | undefined,
    fetch: (chunk: number[]) => Promise<Map<string, V>>,
    missing: () => V,
  ): Promise<Array<V | SourceError>> {
    return batchByKey(
      observer,
      { source: SOURCE, operation, account },
      ids,
      maxBatch,
      fetchNumeric.bind(null, fetch) as (chunk: string[]) => Promise<Map<string, V>>,
      missing,
      isNumericKey,
    );
  }

  return {
    name: SOURCE,
    maxBatch,

    accountsByIds(ids, account) {
      return byNumericKey('accountsByIds', ids, account, fetchAccounts.bind(null, sql, SOURCE, opts.defaultRegion ?? DEFAULT_PHONE_REGION), noRecord);
    },

    /**
     * Newest first per account (placed_at, then order_id). `limit` is per account and applied
     * in the same statement by ROW_NUMBER() over each account's partition (SQLite >= 3.25,
     * MariaDB >= 10.2, MySQL >= 8), so 200 accounts with limit 5 is still one statement.
     */
    async ordersByRecordIds(ids, query: OrderQuery = {}, account?: SourceAccount) {
      const sinceMs = instantArgumentMillis(query.since, 'since');
      const limit = limitArgument(query.limit);
      return byNumericKey('ordersByRecordIds', ids, account, fetchOrders.bind(null, sql, SOURCE, sinceMs, limit), noRecords);
    },

    /** In line_id order. A line whose order is missing has no currency and answers a bad row. */
    linesByOrderIds(ids, account) {
      return byNumericKey('linesByOrderIds', ids, account, fetchLines.bind(null, sql, SOURCE), noRecords);
    },

    /** Oldest first per order. */
    refundsByOrderIds(ids, account) {
      return byNumericKey('refundsByOrderIds', ids, account, fetchRefunds.bind(null, sql, SOURCE, REFUND), noRecords);
    },

    /**
     * One statement, one GROUP BY per account over its orders; each order's refunds are summed
     * by a subquery on `refunds (order_id)` (so an order with two refunds is not counted twice).
     * Not a join of refunds folded per order by an inner GROUP BY: that sorted every order of
     * the chunk in a temporary B-tree twice (SQLite, 1,000 accounts: 15.6 ms against 8.9).
     * Definitions, all over the orders that are not cancelled, so the three money figures
     * reconcile (totalSpent = gross - refundedAmount): orderCount counts them; totalSpent is
     * their totals less their refunds; refundedAmount is their refunds; first/last order
     * times are their placed_at. An account whose orders are all cancelled answers a zero
     * summary; an account without orders answers null.
     */
    orderSummariesByRecordIds(ids, query?: SummaryQuery, account?: SourceAccount) {
      const windows = query ? summarySpan(SOURCE, query) : null;
      return byNumericKey('orderSummariesByRecordIds', ids, account, fetchSummaries.bind(null, sql, SOURCE, REFUND, windows), noRecord);
    },

    /** One GROUP BY (account, category) over counted orders (placed by `asOf.now`) and their lines. */
    categoryStatsByRecordIds(ids, asOf: AsOf, account) {
      const end = countedUntil(SOURCE, 'categoryStatsByRecordIds', asOf);
      return byNumericKey('categoryStatsByRecordIds', ids, account, fetchCategoryStats.bind(null, sql, SOURCE, end), noRecords);
    },

    /**
     * One statement for every account of the chunk: each wanted kind is one SELECT with its own
     * position bound (so a page starts exactly after the cursor), the SELECTs are UNION ALLed,
     * and ROW_NUMBER() over each account's partition, in the timeline's order, keeps its newest
     * `limit`. Ids are all integers here, so SQL's numeric order is the timeline's shortlex.
     */
    async eventsByRecordIds(ids, query: EventQuery, account) {
      checkEventQuery(SOURCE, query);
      const kinds = kindsWanted(SHOP_EVENTS, query.kinds);
      if (kinds.length === 0) return ids.map(() => []);
      const since = sinceInUnit(query.since);
      return byNumericKey('eventsByRecordIds', ids, account, fetchEvents.bind(null, sql, SOURCE, REFUND, kinds, query, since), noRecords);
    },

    /**
     * The RFM quintile boundaries of the whole base in ONE statement: per-order refunds folded,
     * per-account recency (last counted order), frequency (counted orders) and monetary (net
     * spend), NTILE(5) over each, and each quintile's largest value. Money is quintiled in one
     * currency, the one most accounts spend in (ties: the first code): a few accounts in dollars
     * leave the yuan base comparable instead of leaving the whole base without RFM (codes compared
     * upper-cased: `cny` is yuan too). Counted orders are those placed by `asOf.now`, as in every
     * summary figure (summary-span.ts). A full scan
     * of `orders`: callers cache the answer (src/insights/rfm-cache.ts), never ask per request.
     */
    async rfmBoundaries(asOf: AsOf, account) {
      const end = countedUntil(SOURCE, 'rfmBoundaries', asOf);
      return observer.call({ source: SOURCE, operation: 'rfmBoundaries', batchSize: 0, account }, async () => {
        const result = await sql.run<unknown>('rfmBoundaries', (db) =>
          db.raw(
            `with per_order as (
               select o.order_id, o.account_id, o.total_cents, o.placed_at, upper(o.currency) as currency, coalesce(sum(${REFUND}), 0) as refunded,
                 min(${REFUND}) as least_refund
               from orders o left join refunds r on r.order_id = o.order_id
               where o.status <> ? and o.placed_at <= ?
               group by o.order_id, o.account_id, o.total_cents, o.placed_at, o.currency
             ),
             acct as (
               select account_id, count(*) as f, sum(total_cents - refunded) as m, max(placed_at) as rc,
                 min(currency) as cur, max(currency) as cur_max
               from per_order group by account_id
             ),
             major as (
               select cur from acct where cur = cur_max group by cur order by count(*) desc, cur limit 1
             ),
             tiled as (
               select f, rc,
                 ntile(5) over (order by f) as tf,
                 ntile(5) over (order by rc) as tr
               from acct
             ),
             money as (
               select a.m, ntile(5) over (order by a.m) as tm
               from acct a join major j on a.cur = j.cur
               where a.cur = a.cur_max
             )
             select 'f' as dim, tf as tile, max(f) as v, cast(null as char(3)) as cur from tiled group by tf
             union all select 'm', tm, max(m), null from money group by tm
             union all select 'r', tr, max(rc), null from tiled group by tr
             union all select 'n', 0, count(*), null from acct
             union all select 'c', 0, count(*), min(cur) from major
             union all select 'x', 0, count(*), null from per_order where total_cents < 0 or least_refund < 0`,
            [CANCELLED, end],
          ),
        );
        const rows = (sql.dialect === 'mysql' ? (result as unknown[])[0] : result) as BoundaryRow[];
        return toBoundaries(SOURCE, rows);
      });
    },

    async accountIdsByChannels(channels, account) {
      return observer.call({ source: SOURCE, operation: 'accountIdsByChannels', batchSize: 0, account }, async () => {
        if (!channels.length) return [];
        const rows = await sql.run<Array<{ account_id: number }>>('accountIdsByChannels', (db) =>
          whereMatchesText(db('shop_accounts').select('account_id'), db, 'channel', channels),
        );
        return rows.map((r) => String(r.account_id));
      });
    },

    /**
     * Filter pushdown, ONE statement over the whole base: the selected counted orders (window,
     * channel, a line in a category: WHERE / EXISTS) with their refunds folded per order, then
     * GROUP BY account and currency (money is never added across currencies; a code in any case, `usd` as Stripe stores it, is its
     * ISO code, as everywhere else in this connector) HAVING at least one. Keyless, so the number of calls never grows with matches.
     */
    async orderFacts(query: OrderFactQuery, account?: SourceAccount): Promise<OrderFact[]> {
      const since = instantArgumentMillis(query.since, 'since');
      const before = instantArgumentMillis(query.before, 'before');
      return observer.call({ source: SOURCE, operation: 'orderFacts', batchSize: 0, account }, async () => {
        const rows = await sql.run<
          Array<{ account_id: number; currency: string; n: number; spent: number | null; first_placed: number | null; last_placed: number | null; negative: unknown }>
        >('orderFacts', (db) => {
          const perOrder = db('orders as o')
            .leftJoin('refunds as r', 'r.order_id', 'o.order_id')
            .where('o.status', '<>', CANCELLED)
            .groupBy('o.order_id', 'o.account_id', 'o.currency', 'o.total_cents', 'o.placed_at')
            .select(
              'o.order_id',
              'o.account_id',
              db.raw('upper(o.currency) as currency'),
              'o.total_cents',
              'o.placed_at',
              db.raw(`coalesce(sum(${REFUND}), 0) as refunded`),
              db.raw(`min(${REFUND}) as least_refund`),
            );
          if (since != null) perOrder.where('o.placed_at', '>=', since);
          if (before != null) perOrder.where('o.placed_at', '<', before);
          if (query.channels?.length) perOrder.whereIn('o.channel', [...query.channels]);
          if (query.categories?.length) {
            const categories = [...query.categories];
            perOrder.whereExists((q) => q.select(db.raw('1')).from('order_lines as l').whereRaw('l.order_id = o.order_id').whereIn('l.category', categories));
          }
          return db
            .from(perOrder.as('t'))
            .groupBy('account_id', 'currency')
            .havingRaw('count(*) >= ?', [1])
            .select(
              'account_id',
              'currency',
              db.raw('count(*) as n'),
              db.raw('sum(total_cents - refunded) as spent'),
              db.raw('min(placed_at) as first_placed'),
              db.raw('max(placed_at) as last_placed'),
              db.raw('sum(case when total_cents < 0 or least_refund < 0 then 1 else 0 end) as negative'),
            );
        });
        const negative = rows.reduce((n, r) => n + (integerOrNull(r.negative) ?? 0), 0);
        // As the marketplace's whole-base read: figures that would count such a row wrongly are no figures.
        if (negative > 0) throw new SourceError(SOURCE, 'SOURCE_BAD_RESPONSE', `${SOURCE} orderFacts: ${negative} order(s) with ${NEGATIVE_AMOUNT}`);
        return rows.map((r) => ({
          recordId: String(r.account_id),
          orders: Number(r.n),
          spentCents: Number(r.spent ?? 0),
          currency: currencyCode(r.currency) ?? r.currency,
          firstOrderAt: r.first_placed == null ? null : instantFromMillis(Number(r.first_placed)),
          lastOrderAt: r.last_placed == null ? null : instantFromMillis(Number(r.last_placed)),
        }));
      });
    },

    scan: (cursor, pageSize) =>
      keysetScan<ShopAccountRow>(
        {
          source: SOURCE,
          sql,
          observer,
          table: 'shop_accounts',
          columns: ACCOUNT_COLUMNS,
          updatedColumn: 'updated_at',
          idColumn: 'account_id',
          position: (r) => [Number(r.updated_at), Number(r.account_id)],
          isPosition: (u, id) => Number.isSafeInteger(u) && Number.isSafeInteger(id),
          toScanned: (r) => toScanned(SOURCE, r),
        },
        cursor,
        pageSize,
      ),

    /** Every key or none: a key answered null here is an account the shop no longer has, never a chunk that failed. */
    async scanRecords(ids) {
      const answers = await byNumericKey(
        'scanRecords',
        ids,
        undefined,
        async (chunk) => {
          const rows = await sql.run<ShopAccountRow[]>('scanRecords', (db) => db('shop_accounts').select(ACCOUNT_COLUMNS).whereIn('account_id', chunk));
          return new Map(rows.map((r) => [String(r.account_id), toScanned(SOURCE, r) ?? unreadableRecord(SOURCE)]));
        },
        () => null,
      );
      return everyKey(answers);
    },

    missingSchema() {
      return observer.call({ source: SOURCE, operation: 'describeTables', batchSize: 0 }, () => missingColumns(sql, TABLES, 'shop'));
    },

    health() {
      return observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => sql.health());
    },

    close() {
      return sql.close();
    },
  };
}

// ---------- batch reads ----------
// The work of each batch read is in module-level functions that take what a closure would have
// captured: V8 holds a function's optimized code only weakly while no closure of it is alive, so
// a closure written inside a connector method loses it at any major GC between requests and
// re-compiles on the next ones; module-level functions keep theirs. Per call they are bound to
// what they need (the chunk comes last) rather than wrapped in an arrow: a bound function has no
// code of its own, while a forwarding arrow gets optimized with its callee inlined, async ones
// too, and loses that code again.

/** A chunk of numeric keys bound as numbers. */
function fetchNumeric<V>(fetch: (chunk: number[]) => Promise<Map<string, V>>, chunk: string[]): Promise<Map<string, V>> {
  return fetch(chunk.map(Number));
}

function noRecord(): null {
  return null;
}

function noRecords(): never[] {
  return [];
}

function accountKey(r: { account_id: number }): string {
  return String(r.account_id);
}

function orderKey(r: { order_id: number }): string {
  return String(r.order_id);
}

async function fetchAccounts(sql: SqlSource, SOURCE: SourceName, region: CountryCode, chunk: number[]): Promise<Map<string, Slot<ShopAccount>>> {
  const rows = await sql.runShaped<ShopAccountRow[]>('accountsByIds', String(chunk.length), chunk, accountsStatement);
  const answers = new Map<string, Slot<ShopAccount>>();
  for (const r of rows) answers.set(String(r.account_id), toAccount(SOURCE, region, r));
  return answers;
}

function accountsStatement(db: Knex, ids: readonly unknown[]) {
  return db('shop_accounts')
    .select(ACCOUNT_COLUMNS)
    .whereIn('account_id', ids as number[]);
}

async function fetchOrders(sql: SqlSource, SOURCE: SourceName, sinceMs: number | null, limit: number | null, chunk: number[]): Promise<Map<string, Slot<Order>[]>> {
  // Bound values: the optional since and limit, then the chunk's ids; which of the two are present is the shape.
  const scalars = [...(sinceMs != null ? [sinceMs] : []), ...(limit != null ? [limit] : [])];
  const shape = `${chunk.length}:${sinceMs != null}:${limit != null}`;
  const rows = await sql.runShaped<OrderRow[]>('ordersByRecordIds', shape, [...scalars, ...chunk], (db, values) =>
    ordersStatement(db, values, sinceMs != null, limit != null),
  );
  return groupConverted(rows, accountKey, SOURCE, toOrder);
}

/** `values`: the since (when `hasSince`), the limit (when `hasLimit`), then the ids. */
function ordersStatement(db: Knex, values: readonly unknown[], hasSince: boolean, hasLimit: boolean) {
  const scalarCount = (hasSince ? 1 : 0) + (hasLimit ? 1 : 0);
  const newestFirst = [{ column: 'account_id' }, { column: 'placed_at', order: 'desc' }, { column: 'order_id', order: 'desc' }];
  const ids = values.slice(scalarCount) as number[];
  const base = db('orders').select(ORDER_COLUMNS).whereIn('account_id', ids);
  if (hasSince) base.where('placed_at', '>=', values[0] as number);
  if (!hasLimit) return base.orderBy(newestFirst);
  const ranked = base.select(db.raw('row_number() over (partition by account_id order by placed_at desc, order_id desc) as rn'));
  return db
    .from(ranked.as('ranked'))
    .select(ORDER_COLUMNS)
    .where('rn', '<=', values[scalarCount - 1] as number)
    .orderBy(newestFirst);
}

async function fetchLines(sql: SqlSource, SOURCE: SourceName, chunk: number[]): Promise<Map<string, Slot<OrderLine>[]>> {
  const rows = await sql.run<OrderLineRow[]>('linesByOrderIds', (db) => linesStatement(db, chunk));
  return groupConverted(rows, orderKey, SOURCE, toLine);
}

function linesStatement(db: Knex, chunk: number[]) {
  return db('order_lines as l')
    .leftJoin('orders as o', 'o.order_id', 'l.order_id')
    .select('l.line_id', 'l.order_id', 'l.sku', 'l.name', 'l.category', 'l.qty', 'l.unit_price_cents', 'o.currency')
    .whereIn('l.order_id', chunk)
    .orderBy([{ column: 'l.order_id' }, { column: 'l.line_id' }]);
}

async function fetchRefunds(sql: SqlSource, SOURCE: SourceName, refund: string, chunk: number[]): Promise<Map<string, Slot<Refund>[]>> {
  const rows = await sql.run<RefundRow[]>('refundsByOrderIds', (db) => refundsStatement(db, chunk, refund));
  return groupConverted(rows, orderKey, SOURCE, toRefund);
}

function refundsStatement(db: Knex, chunk: number[], refund: string) {
  return db('refunds as r')
    .leftJoin('orders as o', 'o.order_id', 'r.order_id')
    .select('r.refund_id', 'r.order_id', db.raw(`${refund} as amount_cents`), 'r.reason', 'r.refunded_at', 'o.currency')
    .whereIn('r.order_id', chunk)
    .orderBy([{ column: 'r.order_id' }, { column: 'r.refunded_at' }, { column: 'r.refund_id' }]);
}

type SummaryWindows = SummarySpan;

async function fetchSummaries(sql: SqlSource, SOURCE: SourceName, refund: string, windows: SummaryWindows | null, chunk: number[]): Promise<Map<string, Slot<OrderSummary>>> {
  // Bound values: the windows' starts and end (they move with the request's time), then the chunk's ids.
  const scalars = windows ? [...windows.starts, windows.end] : [];
  const shape = `${chunk.length}:${windows ? windows.starts.length : '-'}`;
  const rows = await sql.runShaped<OrderSummaryRow[]>('orderSummariesByRecordIds', shape, [...scalars, ...chunk], (db, values) =>
    summariesStatement(db, refund, values, windows, scalars.length),
  );
  const windowCount = windows?.starts.length ?? null;
  const answers = new Map<string, Slot<OrderSummary>>();
  for (const r of rows) answers.set(String(r.account_id), toSummary(SOURCE, r, windowCount));
  return answers;
}

/** `values`: the windows' starts and end (`scalarCount` of them, when `windows`), then the ids. */
function summariesStatement(db: Knex, refund: string, values: readonly unknown[], windows: SummaryWindows | null, scalarCount: number) {
  // Counted: not cancelled and, with a query, placed by the request time (summary-span.ts): an order
  // dated after it counts in no figure yet.
  const end = windows ? (values[windows.starts.length] as number) : null;
  const isCounted = end === null ? 'o.status <> ?' : 'o.status <> ? and o.placed_at <= ?';
  const countedBindings = end === null ? [CANCELLED] : [CANCELLED, end];
  const counted = (expr: string) => db.raw(`case when ${isCounted} then ${expr} end`, countedBindings);
  // The windowed counts ride along in the same GROUP BY: one statement whatever is asked.
  const extra = windows
    ? [
        db.raw(`sum(case when ${isCounted} and exists (${ORDER_REFUND_ROWS}) then 1 else 0 end) as refunded_orders`, countedBindings),
        ...windows.starts.map((_, i) =>
          db.raw(`sum(case when o.status <> ? and o.placed_at >= ? and o.placed_at <= ? then 1 else 0 end) as w${i}`, [CANCELLED, values[i] as number, end as number]),
        ),
      ]
    : [];
  return db('orders as o')
    .whereIn('o.account_id', values.slice(scalarCount) as number[])
    .groupBy('o.account_id')
    .select(
      ...extra,
      'o.account_id',
      db.raw(`sum(case when ${isCounted} then 1 else 0 end) as order_count`, countedBindings),
      db.raw('coalesce(sum(?), 0) as gross_cents', [counted('o.total_cents')]),
      db.raw('coalesce(sum(?), 0) as refunded_cents', [counted(`(${orderRefundedCents(refund)})`)]),
      db.raw('min(?) as first_placed', [counted('o.placed_at')]),
      db.raw('max(?) as last_placed', [counted('o.placed_at')]),
      db.raw('min(?) as currency_min', [counted('upper(o.currency)')]),
      db.raw('max(?) as currency_max', [counted('upper(o.currency)')]),
      db.raw('min(upper(o.currency)) as any_currency'),
      db.raw('min(?) as least_total', [counted('o.total_cents')]),
      db.raw('min(?) as least_refund', [counted(`(${orderLeastRefund(refund)})`)]),
    );
}

async function fetchCategoryStats(sql: SqlSource, SOURCE: SourceName, end: number, chunk: number[]): Promise<Map<string, Slot<CategoryStat>[]>> {
  const rows = await sql.run<CategoryRow[]>('categoryStatsByRecordIds', (db) => categoryStatsStatement(db, end, chunk));
  const groups = groupConverted(rows, accountKey, SOURCE, toCategoryStat);
  for (const [id, stats] of groups) groups.set(id, sortCategories(stats));
  return groups;
}

function categoryStatsStatement(db: Knex, end: number, chunk: number[]) {
  return db('orders as o')
    .join('order_lines as l', 'l.order_id', 'o.order_id')
    .whereIn('o.account_id', chunk)
    .andWhere('o.status', '<>', CANCELLED)
    .andWhere('o.placed_at', '<=', end)
    .groupBy('o.account_id', 'l.category')
    .select('o.account_id', 'l.category', db.raw('count(distinct o.order_id) as orders'), db.raw('sum(l.qty) as quantity'));
}

async function fetchEvents(
  sql: SqlSource,
  SOURCE: SourceName,
  refund: string,
  kinds: readonly EventKind[],
  query: EventQuery,
  since: number | null,
  chunk: number[],
): Promise<Map<string, Slot<SourceEvent>[]>> {
  const rows = await sql.run<EventRow[]>('eventsByRecordIds', (db) => eventsStatement(SOURCE, db, refund, kinds, chunk, query, since));
  return groupConverted(rows, accountKey, SOURCE, toEvent);
}

function eventsStatement(SOURCE: SourceName, db: Knex, refund: string, kinds: readonly EventKind[], chunk: number[], query: EventQuery, since: number | null) {
  const parts = [];
  for (const kind of kinds) parts.push(eventSelect(SOURCE, db, refund, kind, chunk, query, since));
  const union = parts.length === 1 ? parts[0] : parts[0].unionAll(parts.slice(1), false);
  const ranked = db.from(union.as('e')).select('*', db.raw('row_number() over (partition by account_id order by at desc, kind_rank asc, id asc) as rn'));
  return db
    .from(ranked.as('r'))
    .select('account_id', 'kind_rank', 'at', 'id', 'ref_id', 'amount_cents', 'currency', 'channel', 'status', 'title')
    .where('rn', '<=', query.limit)
    .orderBy([{ column: 'account_id' }, { column: 'at', order: 'desc' }, { column: 'kind_rank' }, { column: 'id' }]);
}

// ---------- row conversion ----------

function toAccount(SOURCE: SourceName, region: CountryCode, r: ShopAccountRow): Slot<ShopAccount> {
  const registeredAt = instantFromMillis(r.registered_at);
  if (!registeredAt) return badRow(SOURCE, 'account', 'registered_at is not a unix-millisecond time');
  const updatedAt = instantFromMillis(r.updated_at);
  if (!updatedAt) return badRow(SOURCE, 'account', 'updated_at is not a unix-millisecond time');
  return {
    id: String(r.account_id),
    phone: normalizePhone(r.mobile, region),
    email: normalizeEmail(r.email),
    memberNo: textOrNull(r.member_no),
    channel: textOrNull(r.channel) ?? '',
    registeredAt,
    updatedAt,
  };
}

function toOrder(SOURCE: SourceName, r: OrderRow): Slot<Order> {
  const total = moneyFromCents(integerOrNull(r.total_cents), String(r.currency ?? ''));
  if (!total) return badRow(SOURCE, 'order', 'total_cents or currency is not money');
  if (total.amount.startsWith('-')) return badRow(SOURCE, 'order', `total_cents is ${NEGATIVE_AMOUNT}`);
  const placedAt = instantFromMillis(r.placed_at);
  if (!placedAt) return badRow(SOURCE, 'order', 'placed_at is not a unix-millisecond time');
  const status = textOrNull(r.status);
  if (!status) return badRow(SOURCE, 'order', 'status is empty');
  return {
    source: SOURCE,
    id: String(r.order_id),
    accountId: String(r.account_id),
    status,
    channel: textOrNull(r.channel) ?? '',
    total,
    placedAt,
    // Optional: an unreadable paid_at reads as "not paid" rather than failing the order.
    paidAt: instantFromMillis(r.paid_at),
  };
}

function toLine(SOURCE: SourceName, r: OrderLineRow): Slot<OrderLine> {
  const unitPrice = moneyFromCents(integerOrNull(r.unit_price_cents), String(r.currency ?? ''));
  if (!unitPrice) return badRow(SOURCE, 'order line', 'unit_price_cents or its order currency is not money');
  const quantity = integerOrNull(r.qty);
  if (quantity == null) return badRow(SOURCE, 'order line', 'qty is not an integer');
  return {
    id: String(r.line_id),
    orderId: String(r.order_id),
    sku: String(r.sku),
    name: String(r.name),
    category: String(r.category),
    quantity,
    unitPrice,
  };
}

function toRefund(SOURCE: SourceName, r: RefundRow): Slot<Refund> {
  const amount = moneyFromCents(integerOrNull(r.amount_cents), String(r.currency ?? ''));
  if (!amount) return badRow(SOURCE, 'refund', 'amount_cents or its order currency is not money');
  if (amount.amount.startsWith('-')) return badRow(SOURCE, 'refund', `amount_cents is ${NEGATIVE_AMOUNT}`);
  const refundedAt = instantFromMillis(r.refunded_at);
  if (!refundedAt) return badRow(SOURCE, 'refund', 'refunded_at is not a unix-millisecond time');
  return { id: String(r.refund_id), orderId: String(r.order_id), amount, reason: textOrNull(r.reason), refundedAt };
}

function toSummary(SOURCE: SourceName, r: OrderSummaryRow, windows: number | null): Slot<OrderSummary> {
  const orderCount = integerOrNull(r.order_count);
  if (orderCount == null) return badRow(SOURCE, 'order summary', 'order count is not an integer');
  if (r.currency_min !== r.currency_max) return badRow(SOURCE, 'order summary', 'orders are in more than one currency');
  if ((integerOrNull(r.least_total) ?? 0) < 0 || (integerOrNull(r.least_refund) ?? 0) < 0) return badRow(SOURCE, 'order summary', `orders include ${NEGATIVE_AMOUNT}`);
  // An account whose orders are all cancelled has no counted currency: zero in its orders' one.
  const currency = String(r.currency_min ?? r.any_currency ?? '');
  const totalSpent = moneyFromCents(minus(integerOrNull(r.gross_cents), integerOrNull(r.refunded_cents)), currency);
  const refundedAmount = moneyFromCents(integerOrNull(r.refunded_cents), currency);
  if (!totalSpent || !refundedAmount) return badRow(SOURCE, 'order summary', 'order totals, refunds or currency are not money');
  const firstOrderAt = r.first_placed == null ? null : instantFromMillis(integerOrNull(r.first_placed));
  const lastOrderAt = r.last_placed == null ? null : instantFromMillis(integerOrNull(r.last_placed));
  if (orderCount > 0 && (!firstOrderAt || !lastOrderAt)) return badRow(SOURCE, 'order summary', 'placed_at is not a unix-millisecond time');
  const accountId = String(r.account_id);
  if (windows === null) return { accountId, orderCount, totalSpent, refundedAmount, firstOrderAt, lastOrderAt };
  // Built once, in the same key order: every account of a thousand-customer list is one.
  const grossSpent = moneyFromCents(integerOrNull(r.gross_cents), currency);
  const refundedOrderCount = integerOrNull(r.refunded_orders);
  const recentOrderCounts: number[] = [];
  for (let i = 0; i < windows; i++) {
    const n = integerOrNull(r[WINDOW_COLUMNS[i] ?? (`w${i}` as const)]);
    if (n == null) return badRow(SOURCE, 'order summary', 'windowed counts are not integers');
    recentOrderCounts.push(n);
  }
  if (!grossSpent || refundedOrderCount == null) return badRow(SOURCE, 'order summary', 'windowed counts are not integers');
  return { accountId, orderCount, totalSpent, refundedAmount, firstOrderAt, lastOrderAt, grossSpent, refundedOrderCount, recentOrderCounts };
}

/** The windowed counts' column names (`w0`, `w1`, …), not built per row. */
const WINDOW_COLUMNS = Array.from({ length: 8 }, (_, i) => `w${i}` as const);

function toCategoryStat(SOURCE: SourceName, r: CategoryRow): Slot<CategoryStat> {
  const orders = integerOrNull(r.orders);
  const quantity = integerOrNull(r.quantity);
  const category = textOrNull(r.category);
  if (orders == null || quantity == null || !category) return badRow(SOURCE, 'category statistic', 'category, order count or quantity is malformed');
  return { category, orders, quantity };
}

/** Most orders first, then most units, then by name: the same order for every engine and collation. */
function sortCategories(stats: Slot<CategoryStat>[]): Slot<CategoryStat>[] {
  return [...stats].sort(byCategoryRank);
}

function byCategoryRank(a: Slot<CategoryStat>, b: Slot<CategoryStat>): number {
  const x = a instanceof Error ? null : a;
  const y = b instanceof Error ? null : b;
  if (!x || !y) return x ? -1 : y ? 1 : 0;
  return y.orders - x.orders || y.quantity - x.quantity || (x.category < y.category ? -1 : x.category > y.category ? 1 : 0);
}

/**
 * One kind's SELECT for the events UNION, all kinds in the same column shape. The bound
 * (position and since) is applied here, per kind, where it is one indexed comparison.
 */
function eventSelect(SOURCE: SourceName, db: Knex, refund: string, kind: EventKind, accounts: number[], q: EventQuery, since: number | null) {
  const cond = (atColumn: string, idColumn: string) => eventConditionSql(q.after ? kindBound(kind, q.after) : null, since, atColumn, idColumn, 'integer');
  const rank = kindRank(SHOP_EVENTS, kind);
  switch (kind) {
    case 'account_registered': {
      const c = cond('registered_at', 'account_id');
      return db('shop_accounts')
        .select(
          'account_id',
          db.raw('? as kind_rank', [rank]),
          'registered_at as at',
          'account_id as id',
          ...nullColumns(db, 'ref_id', 'amount_cents', 'currency'),
          'channel',
          ...nullColumns(db, 'status', 'title'),
        )
        .whereIn('account_id', accounts)
        .whereRaw(c.sql, c.bindings);
    }
    case 'order_placed':
    case 'order_paid': {
      const atColumn = kind === 'order_placed' ? 'placed_at' : 'paid_at';
      const c = cond(atColumn, 'order_id');
      const q = db('orders')
        .select(
          'account_id',
          db.raw('? as kind_rank', [rank]),
          `${atColumn} as at`,
          'order_id as id',
          'order_id as ref_id',
          'total_cents as amount_cents',
          'currency',
          'channel',
          'status',
          ...nullColumns(db, 'title'),
        )
        .whereIn('account_id', accounts)
        .whereRaw(c.sql, c.bindings);
      return kind === 'order_paid' ? q.whereNotNull('paid_at') : q;
    }
    case 'order_refunded': {
      const c = cond('r.refunded_at', 'r.refund_id');
      return db('refunds as r')
        .join('orders as o', 'o.order_id', 'r.order_id')
        .select(
          'o.account_id',
          db.raw('? as kind_rank', [rank]),
          'r.refunded_at as at',
          'r.refund_id as id',
          'o.order_id as ref_id',
          db.raw(`${refund} as amount_cents`),
          'o.currency',
          'o.channel',
          'o.status',
          'r.reason as title',
        )
        .whereIn('o.account_id', accounts)
        .whereRaw(c.sql, c.bindings);
    }
    default:
      throw new Error(`${SOURCE} events: ${kind} is not an order-system kind`);
  }
}

/** `null as <col>` for each column, for the kinds that have none of it. */
function nullColumns(db: Knex, ...cols: string[]): Knex.Raw[] {
  const columns: Knex.Raw[] = [];
  for (const c of cols) columns.push(db.raw(`null as ${c}`));
  return columns;
}

function toEvent(SOURCE: SourceName, r: EventRow): Slot<SourceEvent> {
  const rank = integerOrNull(r.kind_rank);
  const kind = rank == null ? undefined : ORDER_KINDS_BY_RANK.get(rank);
  if (!kind) return badRow(SOURCE, 'event', 'unknown kind');
  const at = instantFromMillis(r.at);
  if (!at) return badRow(SOURCE, 'event', 'time is not a unix-millisecond time');
  let amount = null;
  if (r.amount_cents != null) {
    amount = moneyFromCents(integerOrNull(r.amount_cents), String(r.currency ?? ''));
    if (!amount) return badRow(SOURCE, 'event', 'amount or currency is not money');
  }
  return {
    kind,
    at,
    id: String(r.id),
    recordId: String(r.account_id),
    refId: r.ref_id == null ? null : String(r.ref_id),
    title: textOrNull(r.title),
    amount,
    channel: textOrNull(r.channel),
    status: textOrNull(r.status),
  };
}

const ORDER_KINDS_BY_RANK = new Map(kindsWanted(SHOP_EVENTS, null).map((k) => [kindRank(SHOP_EVENTS, k), k]));

function toBoundaries(SOURCE: SourceName, rows: BoundaryRow[]): RfmBoundaries {
  const dim = (d: string) =>
    rows
      .filter((r) => r.dim === d)
      .map((r) => ({ tile: integerOrNull(r.tile) ?? 0, v: integerOrNull(r.v) }))
      .sort((a, b) => a.tile - b.tile);
  const upper = (d: string) => {
    const tiles = dim(d);
    if (tiles.some((t) => t.v == null)) throw badResponseOf(SOURCE, 'a quintile boundary is not an integer');
    // Fewer than five accounts leave fewer than five tiles; the boundaries are those of tiles 1..4 that exist.
    return tiles.filter((t) => t.tile >= 1 && t.tile <= 4).map((t) => t.v as number);
  };
  const accounts = integerOrNull(rows.find((r) => r.dim === 'n')?.v) ?? 0;
  const negative = integerOrNull(rows.find((r) => r.dim === 'x')?.v) ?? 0;
  if (negative > 0) throw badResponseOf(SOURCE, `${negative} order(s) with ${NEGATIVE_AMOUNT}`);
  const currencyRow = rows.find((r) => r.dim === 'c');
  const currencies = integerOrNull(currencyRow?.v) ?? 0;
  const recency = upper('r').map((ms) => instantFromMillis(ms));
  if (recency.some((t) => t == null)) throw badResponseOf(SOURCE, 'a recency boundary is not a unix-millisecond time');
  return {
    accounts,
    recency: recency as string[],
    frequency: upper('f'),
    monetary: upper('m'),
    // The currency the monetary boundaries are in (none without a base).
    currency: currencies === 1 ? currencyCode(currencyRow?.cur) : null,
    computedAt: new Date().toISOString(),
  };
}

function badResponseOf(SOURCE: SourceName, reason: string) {
  return new SourceError(SOURCE, 'SOURCE_BAD_RESPONSE', `${SOURCE} rfmBoundaries: ${reason}`);
}

function minus(a: number | null, b: number | null): number | null {
  return a == null || b == null ? null : a - b;
}

function toScanned(SOURCE: SourceName, r: ShopAccountRow): ScannedRecord | null {
  const updatedAt = instantFromMillis(r.updated_at);
  // No slot for a malformed scanned record in the contract: leave it out (the cursor still moves).
  if (!updatedAt) return null;
  const identifiers: RawIdentifier[] = [];
  if (textOrNull(r.mobile)) identifiers.push({ kind: 'PHONE', value: r.mobile as string });
  if (textOrNull(r.email)) identifiers.push({ kind: 'EMAIL', value: r.email as string });
  if (textOrNull(r.member_no)) identifiers.push({ kind: 'MEMBER_NO', value: r.member_no as string });
  return { source: SOURCE, recordId: String(r.account_id), updatedAt, identifiers };
}
