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
}

export interface OrdersConnector extends Connector {
  accountsByIds(ids: readonly string[]): Promise<Array<Slot<ShopAccount> | null>>;
  ordersByAccountIds(ids: readonly string[], query: OrderQuery): Promise<Array<Slot<Order>[]>>;
  linesByOrderIds(ids: readonly string[]): Promise<Array<Slot<OrderLine>[]>>;
  refundsByOrderIds(ids: readonly string[]): Promise<Array<Slot<Refund>[]>>;
  /** Accounts without orders answer null. */
  orderSummariesByAccountIds(ids: readonly string[]): Promise<Array<Slot<OrderSummary> | null>>;
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
}

export interface Connectors {
  crm: CrmConnector;
  orders: OrdersConnector;
  support: SupportConnector;
  scrm: ScrmConnector;
}
