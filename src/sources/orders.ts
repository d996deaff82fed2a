/**
 * Orders connector: the shop's own SQL tables, `shop_accounts`, `orders`, `order_lines`, `refunds`.
 *
 * Keys: numeric `account_id` / `order_id`, which c360 carries as decimal strings
 * (`String(account_id)`); a key that is not the canonical decimal form of a safe integer
 * is unknown (null / []) and never reaches SQL. OneID record key `orders`/`account_id`.
 * Cost: one indexed SELECT per chunk of at most `maxBatch` keys (default 500, at most
 * MAX_IN_LIST), whatever the options: `ordersByAccountIds` applies `limit` per account with
 * a window function, and `orderSummariesByAccountIds` aggregates orders and refunds in one
 * GROUP BY. `scan` is one keyset SELECT per page on the `(updated_at, account_id)` index.
 * The shop's formats (integer cents with a per-order currency, unix-millisecond times) are
 * known here and nowhere else.
 */
import type { SqlConnection } from '../db';
import { badRow, badUserInput } from '../errors';
import { instantFromIso, instantFromMillis, moneyFromCents, normalizeEmail, normalizePhone } from '../canonical';
import type { SourceObserver } from './observe';
import {
  batchByKey,
  checkMaxBatch,
  createSqlSource,
  decodeKeysetCursor,
  encodeKeysetCursor,
  groupRows,
  integerOrNull,
  textOrNull,
  type BreakerOptions,
} from './sql';
import type {
  Order,
  OrderLine,
  OrderQuery,
  OrderSummary,
  OrdersConnector,
  RawIdentifier,
  Refund,
  ScannedRecord,
  ShopAccount,
  Slot,
} from './types';

export interface OrdersConnectorOptions {
  connection: SqlConnection;
  /** Per-statement timeout. */
  timeoutMs?: number;
  /** Keys per statement; default 500. */
  maxBatch?: number;
  breaker?: Partial<BreakerOptions>;
}

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
}

const SOURCE = 'orders' as const;
const CANCELLED = 'cancelled';
const DEFAULT_PAGE_SIZE = 500;
const MAX_PAGE_SIZE = 10_000;

const ACCOUNT_COLUMNS = ['account_id', 'mobile', 'member_no', 'email', 'channel', 'registered_at', 'updated_at'] as const;
const ORDER_COLUMNS = ['order_id', 'account_id', 'status', 'channel', 'total_cents', 'currency', 'placed_at', 'paid_at'] as const;

/** The canonical decimal string of a safe integer, which is how c360 spells these keys. */
function isNumericKey(key: string): boolean {
  if (!/^-?(0|[1-9]\d{0,15})$/.test(key)) return false;
  return Number.isSafeInteger(Number(key));
}

export function createOrdersConnector(opts: OrdersConnectorOptions, observer: SourceObserver): OrdersConnector {
  const maxBatch = checkMaxBatch(SOURCE, opts.maxBatch ?? 500);
  const sql = createSqlSource({ source: SOURCE, connection: opts.connection, timeoutMs: opts.timeoutMs, breaker: opts.breaker });

  /** `batchByKey` over numeric keys: the chunk is bound as numbers, answers are keyed by `String(id)`. */
  function byNumericKey<V>(
    operation: string,
    ids: readonly string[],
    fetch: (chunk: number[]) => Promise<Map<string, V>>,
    missing: () => V,
  ): Promise<V[]> {
    return batchByKey(observer, { source: SOURCE, operation }, ids, maxBatch, (chunk) => fetch(chunk.map(Number)), missing, isNumericKey);
  }

  return {
    name: SOURCE,
    maxBatch,

    accountsByIds(ids) {
      return byNumericKey(
        'accountsByIds',
        ids,
        async (chunk) => {
          const rows = await sql.run<ShopAccountRow[]>('accountsByIds', (db) =>
            db('shop_accounts').select(ACCOUNT_COLUMNS).whereIn('account_id', chunk),
          );
          return new Map(rows.map((r) => [String(r.account_id), toAccount(r)]));
        },
        () => null,
      );
    },

    /**
     * Newest first per account (placed_at, then order_id). `limit` is per account and applied
     * in the same statement by ROW_NUMBER() over each account's partition (SQLite >= 3.25,
     * MariaDB >= 10.2, MySQL >= 8), so 200 accounts with limit 5 is still one statement.
     */
    async ordersByAccountIds(ids, query: OrderQuery = {}) {
      const sinceMs = sinceMillis(query.since);
      const limit = checkLimit(query.limit);
      return byNumericKey(
        'ordersByAccountIds',
        ids,
        async (chunk) => {
          const rows = await sql.run<OrderRow[]>('ordersByAccountIds', (db) => {
            const newestFirst = [
              { column: 'account_id' },
              { column: 'placed_at', order: 'desc' },
              { column: 'order_id', order: 'desc' },
            ];
            const base = db('orders').select(ORDER_COLUMNS).whereIn('account_id', chunk);
            if (sinceMs != null) base.where('placed_at', '>=', sinceMs);
            if (limit == null) return base.orderBy(newestFirst);
            const ranked = base.select(
              db.raw('row_number() over (partition by account_id order by placed_at desc, order_id desc) as rn'),
            );
            return db.from(ranked.as('ranked')).select(ORDER_COLUMNS).where('rn', '<=', limit).orderBy(newestFirst);
          });
          const groups = groupRows(rows, (r) => String(r.account_id));
          return new Map([...groups].map(([id, g]) => [id, g.map(toOrder)]));
        },
        () => [],
      );
    },

    /** In line_id order. A line whose order is missing has no currency and answers a bad row. */
    linesByOrderIds(ids) {
      return byNumericKey(
        'linesByOrderIds',
        ids,
        async (chunk) => {
          const rows = await sql.run<OrderLineRow[]>('linesByOrderIds', (db) =>
            db('order_lines as l')
              .leftJoin('orders as o', 'o.order_id', 'l.order_id')
              .select('l.line_id', 'l.order_id', 'l.sku', 'l.name', 'l.category', 'l.qty', 'l.unit_price_cents', 'o.currency')
              .whereIn('l.order_id', chunk)
              .orderBy([{ column: 'l.order_id' }, { column: 'l.line_id' }]),
          );
          const groups = groupRows(rows, (r) => String(r.order_id));
          return new Map([...groups].map(([id, g]) => [id, g.map(toLine)]));
        },
        () => [],
      );
    },

    /** Oldest first per order. */
    refundsByOrderIds(ids) {
      return byNumericKey(
        'refundsByOrderIds',
        ids,
        async (chunk) => {
          const rows = await sql.run<RefundRow[]>('refundsByOrderIds', (db) =>
            db('refunds as r')
              .leftJoin('orders as o', 'o.order_id', 'r.order_id')
              .select('r.refund_id', 'r.order_id', 'r.amount_cents', 'r.reason', 'r.refunded_at', 'o.currency')
              .whereIn('r.order_id', chunk)
              .orderBy([{ column: 'r.order_id' }, { column: 'r.refunded_at' }, { column: 'r.refund_id' }]),
          );
          const groups = groupRows(rows, (r) => String(r.order_id));
          return new Map([...groups].map(([id, g]) => [id, g.map(toRefund)]));
        },
        () => [],
      );
    },

    /**
     * One statement: the inner GROUP BY folds each order's refunds into one row (so an order
     * with two refunds is not counted twice), the outer one aggregates per account.
     * Definitions, all over the orders that are not cancelled, so the three money figures
     * reconcile (totalSpent = gross - refundedAmount): orderCount counts them; totalSpent is
     * their totals less their refunds; refundedAmount is their refunds; first/last order
     * times are their placed_at. An account whose orders are all cancelled answers a zero
     * summary; an account without orders answers null.
     */
    orderSummariesByAccountIds(ids) {
      return byNumericKey(
        'orderSummariesByAccountIds',
        ids,
        async (chunk) => {
          const rows = await sql.run<OrderSummaryRow[]>('orderSummariesByAccountIds', (db) => {
            const perOrder = db('orders as o')
              .leftJoin('refunds as r', 'r.order_id', 'o.order_id')
              .whereIn('o.account_id', chunk)
              .groupBy('o.order_id', 'o.account_id', 'o.status', 'o.total_cents', 'o.currency', 'o.placed_at')
              .select(
                'o.order_id',
                'o.account_id',
                'o.status',
                'o.total_cents',
                'o.currency',
                'o.placed_at',
                db.raw('coalesce(sum(r.amount_cents), 0) as order_refunded_cents'),
              );
            const counted = (expr: string) => db.raw(`case when status <> ? then ${expr} end`, [CANCELLED]);
            return db
              .from(perOrder.as('t'))
              .groupBy('account_id')
              .select(
                'account_id',
                db.raw('sum(case when status <> ? then 1 else 0 end) as order_count', [CANCELLED]),
                db.raw('coalesce(sum(?), 0) as gross_cents', [counted('total_cents')]),
                db.raw('coalesce(sum(?), 0) as refunded_cents', [counted('order_refunded_cents')]),
                db.raw('min(?) as first_placed', [counted('placed_at')]),
                db.raw('max(?) as last_placed', [counted('placed_at')]),
                db.raw('min(?) as currency_min', [counted('currency')]),
                db.raw('max(?) as currency_max', [counted('currency')]),
                db.raw('min(currency) as any_currency'),
              );
          });
          return new Map(rows.map((r) => [String(r.account_id), toSummary(r)]));
        },
        () => null,
      );
    },

    /** Keyset pagination on (updated_at, account_id), both numeric. */
    async scan(cursor, pageSize = DEFAULT_PAGE_SIZE) {
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE)
        throw new Error(`${SOURCE} scan: pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${pageSize}`);
      const after = cursor == null ? null : decodeOrdersCursor(cursor);
      return observer.call({ source: SOURCE, operation: 'scan', batchSize: pageSize }, async () => {
        const rows = await sql.run<ShopAccountRow[]>('scan', (db) => {
          const q = db('shop_accounts').select(ACCOUNT_COLUMNS);
          if (after) {
            // `updated_at >= ?` first, so both engines use the index for the range.
            const [u, id] = after;
            q.where('updated_at', '>=', u).andWhere((w) => w.where('updated_at', '>', u).orWhere('account_id', '>', id));
          }
          return q.orderBy([{ column: 'updated_at' }, { column: 'account_id' }]).limit(pageSize);
        });
        const last = rows[rows.length - 1];
        return {
          records: rows.map(toScanned).filter((r): r is ScannedRecord => r !== null),
          cursor: last ? encodeKeysetCursor(Number(last.updated_at), Number(last.account_id)) : cursor,
          done: rows.length < pageSize,
        };
      });
    },

    scanRecords(ids) {
      return byNumericKey(
        'scanRecords',
        ids,
        async (chunk) => {
          const rows = await sql.run<ShopAccountRow[]>('scanRecords', (db) =>
            db('shop_accounts').select(ACCOUNT_COLUMNS).whereIn('account_id', chunk),
          );
          return new Map(rows.map((r) => [String(r.account_id), toScanned(r)]));
        },
        () => null,
      );
    },

    health() {
      return observer.call({ source: SOURCE, operation: 'health', batchSize: 0 }, () => sql.health());
    },

    close() {
      return sql.close();
    },
  };
}

// ---------- row conversion ----------

function toAccount(r: ShopAccountRow): Slot<ShopAccount> {
  const registeredAt = instantFromMillis(r.registered_at);
  if (!registeredAt) return badRow(SOURCE, 'account', 'registered_at is not a unix-millisecond time');
  const updatedAt = instantFromMillis(r.updated_at);
  if (!updatedAt) return badRow(SOURCE, 'account', 'updated_at is not a unix-millisecond time');
  return {
    id: String(r.account_id),
    phone: normalizePhone(r.mobile),
    email: normalizeEmail(r.email),
    memberNo: textOrNull(r.member_no),
    channel: textOrNull(r.channel) ?? '',
    registeredAt,
    updatedAt,
  };
}

function toOrder(r: OrderRow): Slot<Order> {
  const total = moneyFromCents(integerOrNull(r.total_cents), String(r.currency ?? ''));
  if (!total) return badRow(SOURCE, 'order', 'total_cents or currency is not money');
  const placedAt = instantFromMillis(r.placed_at);
  if (!placedAt) return badRow(SOURCE, 'order', 'placed_at is not a unix-millisecond time');
  const status = textOrNull(r.status);
  if (!status) return badRow(SOURCE, 'order', 'status is empty');
  return {
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

function toLine(r: OrderLineRow): Slot<OrderLine> {
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

function toRefund(r: RefundRow): Slot<Refund> {
  const amount = moneyFromCents(integerOrNull(r.amount_cents), String(r.currency ?? ''));
  if (!amount) return badRow(SOURCE, 'refund', 'amount_cents or its order currency is not money');
  const refundedAt = instantFromMillis(r.refunded_at);
  if (!refundedAt) return badRow(SOURCE, 'refund', 'refunded_at is not a unix-millisecond time');
  return { id: String(r.refund_id), orderId: String(r.order_id), amount, reason: textOrNull(r.reason), refundedAt };
}

function toSummary(r: OrderSummaryRow): Slot<OrderSummary> {
  const orderCount = integerOrNull(r.order_count);
  if (orderCount == null) return badRow(SOURCE, 'order summary', 'order count is not an integer');
  if (r.currency_min !== r.currency_max) return badRow(SOURCE, 'order summary', 'orders are in more than one currency');
  // An account whose orders are all cancelled has no counted currency: zero in its orders' one.
  const currency = String(r.currency_min ?? r.any_currency ?? '');
  const totalSpent = moneyFromCents(minus(integerOrNull(r.gross_cents), integerOrNull(r.refunded_cents)), currency);
  const refundedAmount = moneyFromCents(integerOrNull(r.refunded_cents), currency);
  if (!totalSpent || !refundedAmount) return badRow(SOURCE, 'order summary', 'order totals, refunds or currency are not money');
  const firstOrderAt = r.first_placed == null ? null : instantFromMillis(integerOrNull(r.first_placed));
  const lastOrderAt = r.last_placed == null ? null : instantFromMillis(integerOrNull(r.last_placed));
  if (orderCount > 0 && (!firstOrderAt || !lastOrderAt))
    return badRow(SOURCE, 'order summary', 'placed_at is not a unix-millisecond time');
  return { accountId: String(r.account_id), orderCount, totalSpent, refundedAmount, firstOrderAt, lastOrderAt };
}

function minus(a: number | null, b: number | null): number | null {
  return a == null || b == null ? null : a - b;
}

function toScanned(r: ShopAccountRow): ScannedRecord | null {
  const updatedAt = instantFromMillis(r.updated_at);
  // No slot for a malformed scanned record in the contract: leave it out (the cursor still moves).
  if (!updatedAt) return null;
  const identifiers: RawIdentifier[] = [];
  if (textOrNull(r.mobile)) identifiers.push({ kind: 'PHONE', value: r.mobile as string });
  if (textOrNull(r.email)) identifiers.push({ kind: 'EMAIL', value: r.email as string });
  if (textOrNull(r.member_no)) identifiers.push({ kind: 'MEMBER_NO', value: r.member_no as string });
  return { source: SOURCE, recordId: String(r.account_id), updatedAt, identifiers };
}

// ---------- arguments ----------

/** `since` as unix ms; a value that is not an ISO instant is the caller's mistake. */
function sinceMillis(since: string | null | undefined): number | null {
  if (since == null) return null;
  const iso = instantFromIso(since);
  if (!iso) throw badUserInput('since must be an ISO-8601 instant with a zone, e.g. 2024-03-01T00:00:00Z', { argument: 'since' });
  return Date.parse(iso);
}

function checkLimit(limit: number | null | undefined): number | null {
  if (limit == null) return null;
  if (!Number.isInteger(limit) || limit < 0) throw badUserInput('limit must be a non-negative integer', { argument: 'limit' });
  return limit;
}

function decodeOrdersCursor(cursor: string): [number, number] {
  const [u, id] = decodeKeysetCursor(SOURCE, cursor);
  if (!Number.isSafeInteger(u) || !Number.isSafeInteger(id))
    throw new Error(`${SOURCE} scan: not a cursor this connector handed out: ${JSON.stringify(cursor)}`);
  return [u as number, id as number];
}
