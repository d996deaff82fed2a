/**
 * The contract every source connector keeps, and the canonical records they answer with.
 *
 * A connector is the ONLY code that talks to an existing system. It exposes batch
 * functions: many keys in, answers in the same order (DataLoader's contract). A key with
 * no data answers `null` (single) or `[]` (list). A malformed row answers a `SourceError`
 * in its place (a `badRow`), so one bad record never fails the batch. A failed call
 * rejects with a `SourceError` (unavailable / timeout / bad response).
 *
 * Canonical vocabulary: phones E.164, emails lower-case trimmed, `Gender`, money as
 * `{ amount: "123.45", currency: "CNY" }`, times ISO-8601 UTC (`2024-03-01T08:15:00.000Z`).
 */
import type { SourceError } from '../errors';

export const SOURCE_NAMES = ['crm', 'orders', 'support', 'scrm'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

export const IDENTIFIER_KINDS = ['PHONE', 'EMAIL', 'OPENID', 'UNIONID', 'MEMBER_NO', 'DEVICE_ID'] as const;
export type IdentifierKind = (typeof IDENTIFIER_KINDS)[number];

export type Gender = 'MALE' | 'FEMALE' | 'UNKNOWN';
export interface Money {
  amount: string;
  currency: string;
}
/** ISO-8601 UTC timestamp string. */
export type Instant = string;

/** One answer slot: the value, or the coded error for that key alone. */
export type Slot<T> = T | SourceError;

// ---------- timeline events (every source) ----------
//
// The event and insight batch functions below are optional in the interfaces only so that the
// hand-made fakes some tests build keep compiling; every real connector implements them, and
// the loaders fail with a message naming the missing function if one does not.

/**
 * Every kind of event the timeline carries, each owned by exactly one source. The names are
 * part of the event order (see `EventPosition`), so renaming one reorders ties: don't.
 */
export const EVENT_KINDS = [
  'account_registered',
  'coupon_received',
  'coupon_redeemed',
  'crm_created',
  'followed',
  'group_joined',
  'order_paid',
  'order_placed',
  'order_refunded',
  'ticket_opened',
  'ticket_rated',
  'ticket_solved',
  'tier_changed',
  'unfollowed',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * A place in the one event order every source and the gateway share: newest first (`at`
 * descending), then `kind` ascending (plain string order), then `id` ascending in shortlex
 * order (shorter first, then character order; for integers without leading zeros that is
 * numeric order). `(kind, id)` names one event of a customer, so the order is total.
 */
export interface EventPosition {
  at: Instant;
  kind: EventKind;
  id: string;
}

/** What a source is asked for, per key: its newest `limit` events strictly after `after`. */
export interface EventQuery {
  /** Null: from the newest event on. */
  after: EventPosition | null;
  /** Only events at or after this instant. */
  since: Instant | null;
  /** Only these kinds (null: every kind the source has). A source never sees kinds it does not own. */
  kinds: readonly EventKind[] | null;
  /** Most events per key. */
  limit: number;
}

/** One event in one source, in the canonical vocabulary. Fields beyond the first four are set where the kind has them. */
export interface SourceEvent {
  kind: EventKind;
  at: Instant;
  /** Unique among this kind's events (order id, ticket id, coupon id, ...); see `EventPosition`. */
  id: string;
  /** The source record (key) the event belongs to: contact id, account id, requester id, openid. */
  recordId: string;
  /** The thing the event is about, when it is not the record itself: order, ticket, coupon, group chat. */
  refId?: string | null;
  /** Ticket subject, coupon title or group chat name. */
  title?: string | null;
  /** Order total, refund amount or coupon value. */
  amount?: Money | null;
  /** Sales or contact channel. */
  channel?: string | null;
  /** Status of the order or ticket now. */
  status?: string | null;
  fromTier?: string | null;
  toTier?: string | null;
  /** Satisfaction score 1..5 (ticket_rated). */
  score?: number | null;
}

// ---------- identity feed (scan) ----------

export interface RawIdentifier {
  kind: IdentifierKind;
  /** As the source stores it; the resolver normalizes. */
  value: string;
}

/** What resolution needs to know about one source record. */
export interface ScannedRecord {
  source: SourceName;
  recordId: string;
  updatedAt: Instant;
  /** The record was deleted in the source (or unfollowed for good): its links end. */
  deleted?: boolean;
  identifiers: RawIdentifier[];
  /** Soft attributes used only to detect conflicts (never to link on their own). */
  traits?: { name?: string | null; birthday?: string | null; gender?: Gender | null };
}

export interface ScanPage {
  records: ScannedRecord[];
  /** Opaque; pass back to continue after this page. Persist it once the page is applied. */
  cursor: string | null;
  /** True when this page reached the end of the feed (for now). */
  done: boolean;
}

export interface Connector {
  readonly name: SourceName;
  /** Largest number of keys one call to the system may carry; batch functions chunk to it. */
  readonly maxBatch: number;
  /** Stream identifiers of records changed after `cursor` (null: from the beginning). */
  scan(cursor: string | null, pageSize?: number): Promise<ScanPage>;
  /** The same view as `scan`, for named records (webhooks); unknown ids answer null. */
  scanRecords(recordIds: readonly string[]): Promise<Array<ScannedRecord | null>>;
  /** Resolves when the system answers; rejects with a SourceError when not. */
  health(): Promise<void>;
  close(): Promise<void>;
}

// ---------- CRM ----------

export interface CrmContact {
  id: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  gender: Gender;
  birthday: string | null;
  province: string | null;
  city: string | null;
  memberNo: string | null;
  tier: string | null;
  ownerRep: string | null;
  ownerTeam: string | null;
  smsOptIn: boolean | null;
  emailOptIn: boolean | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface CrmTierChange {
  contactId: string;
  fromTier: string | null;
  toTier: string;
  changedAt: Instant;
}

export interface CrmConnector extends Connector {
  contactsByIds(ids: readonly string[]): Promise<Array<Slot<CrmContact> | null>>;
  tierChangesByContactIds(ids: readonly string[]): Promise<Array<Slot<CrmTierChange>[]>>;
  /** crm_created and tier_changed events, per contact, as `EventQuery` asks. */
  eventsByContactIds?(ids: readonly string[], query: EventQuery): Promise<Array<Slot<SourceEvent>[]>>;
}

// ---------- Orders ----------

export interface ShopAccount {
  id: string;
  phone: string | null;
  email: string | null;
  memberNo: string | null;
  channel: string;
  registeredAt: Instant;
  updatedAt: Instant;
}

export interface OrderLine {
  id: string;
  orderId: string;
  sku: string;
  name: string;
  category: string;
  quantity: number;
  unitPrice: Money;
}

export interface Order {
  id: string;
  accountId: string;
  status: string;
  channel: string;
  total: Money;
  placedAt: Instant;
  paidAt: Instant | null;
}

export interface Refund {
  id: string;
  orderId: string;
  amount: Money;
  reason: string | null;
  refundedAt: Instant;
}

export interface OrderQuery {
  /** Only orders placed at or after this instant. */
  since?: Instant | null;
  /** At most this many orders per account, newest first. */
  limit?: number | null;
}

/**
 * Aggregates over one account's orders, computed in the source (SQL GROUP BY).
 * orderCount counts orders not cancelled; totalSpent is their total less refunds.
 */
export interface OrderSummary {
  accountId: string;
  orderCount: number;
  totalSpent: Money;
  refundedAmount: Money;
  firstOrderAt: Instant | null;
  lastOrderAt: Instant | null;
  /** Total of the counted orders before refunds (= totalSpent + refundedAmount). Set when asked with a `SummaryQuery`. */
  grossSpent?: Money;
  /** Counted orders with at least one refund. Set when asked with a `SummaryQuery`. */
  refundedOrderCount?: number;
  /** Counted orders placed within each of `SummaryQuery.windowDays` days before `now`, in that order. */
  recentOrderCounts?: number[];
}

/** Extra aggregates for `orderSummariesByAccountIds`, computed in the same statement. */
export interface SummaryQuery {
  /** The instant windows end at (the request time). */
  now: Instant;
  /** Window lengths in days for `recentOrderCounts`. */
  windowDays: readonly number[];
}

/** One account's purchases in one product category (counted orders only). */
export interface CategoryStat {
  category: string;
  /** Counted orders with at least one line in the category. */
  orders: number;
  /** Units bought. */
  quantity: number;
}

/**
 * Quintile boundaries of the whole order base, per account with counted orders: for each of
 * recency (last order time), frequency (counted orders) and monetary (net spend in cents), the
 * largest value of quintiles 1..4 (NTILE(5) over ascending values). A value v scores
 * 1 + (number of boundaries below v), so 1 is the oldest / fewest / least and 5 the best.
 */
export interface RfmBoundaries {
  accounts: number;
  /** Four instants, ascending. Empty when the base is empty. */
  recency: Instant[];
  frequency: number[];
  /** Cents. */
  monetary: number[];
  currency: string | null;
  computedAt: Instant;
}

export interface OrdersConnector extends Connector {
  accountsByIds(ids: readonly string[]): Promise<Array<Slot<ShopAccount> | null>>;
  ordersByAccountIds(ids: readonly string[], query: OrderQuery): Promise<Array<Slot<Order>[]>>;
  linesByOrderIds(ids: readonly string[]): Promise<Array<Slot<OrderLine>[]>>;
  refundsByOrderIds(ids: readonly string[]): Promise<Array<Slot<Refund>[]>>;
  /** Accounts without orders answer null. */
  orderSummariesByAccountIds(ids: readonly string[], query?: SummaryQuery): Promise<Array<Slot<OrderSummary> | null>>;
  /** Purchases per category, most orders first; accounts without counted orders answer []. */
  categoryStatsByAccountIds?(ids: readonly string[]): Promise<Array<Slot<CategoryStat>[]>>;
  /** account_registered, order_placed, order_paid and order_refunded events, per account, as `EventQuery` asks. */
  eventsByAccountIds?(ids: readonly string[], query: EventQuery): Promise<Array<Slot<SourceEvent>[]>>;
  /** One aggregate over the whole order base (not per key); callers cache it (src/insights/rfm-cache.ts). */
  rfmBoundaries?(): Promise<RfmBoundaries>;
}

// ---------- Support ----------

export interface SupportRequester {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  createdAt: Instant;
  updatedAt: Instant;
}

export interface Ticket {
  id: string;
  requesterId: string;
  subject: string;
  status: string;
  priority: string | null;
  channel: string;
  satisfactionScore: number | null;
  createdAt: Instant;
  updatedAt: Instant;
  solvedAt: Instant | null;
}

export interface SupportConnector extends Connector {
  requestersByIds(ids: readonly string[]): Promise<Array<Slot<SupportRequester> | null>>;
  ticketsByRequesterIds(ids: readonly string[]): Promise<Array<Slot<Ticket>[]>>;
  /** ticket_opened, ticket_solved and ticket_rated events, per requester, as `EventQuery` asks. */
  eventsByRequesterIds?(ids: readonly string[], query: EventQuery): Promise<Array<Slot<SourceEvent>[]>>;
}

// ---------- SCRM ----------

export interface ScrmFollower {
  openid: string;
  unionid: string | null;
  nickname: string | null;
  gender: Gender;
  city: string | null;
  province: string | null;
  country: string | null;
  subscribed: boolean;
  subscribedAt: Instant | null;
  tagIds: number[];
}

export interface Coupon {
  id: string;
  openid: string;
  title: string;
  value: Money;
  status: string;
  receivedAt: Instant;
  redeemedAt: Instant | null;
}

export interface GroupMembership {
  openid: string;
  chatId: string;
  chatName: string;
  joinedAt: Instant;
}

export interface ScrmConnector extends Connector {
  followersByOpenids(openids: readonly string[]): Promise<Array<Slot<ScrmFollower> | null>>;
  couponsByOpenids(openids: readonly string[]): Promise<Array<Slot<Coupon>[]>>;
  groupsByOpenids(openids: readonly string[]): Promise<Array<Slot<GroupMembership>[]>>;
  /** followed, unfollowed, coupon_received, coupon_redeemed and group_joined events, per openid, as `EventQuery` asks. */
  eventsByOpenids?(openids: readonly string[], query: EventQuery): Promise<Array<Slot<SourceEvent>[]>>;
}

export interface Connectors {
  crm: CrmConnector;
  orders: OrdersConnector;
  support: SupportConnector;
  scrm: ScrmConnector;
}
