/**
 * The capabilities: the cross-source contracts the core computes on. A source kind provides
 * any of them (src/sources/kind.ts); golden fields, insights, the timeline and BI lists loop
 * over the sources that provide one and never ask which system they are.
 *
 *   profile     what a record says about the person (the candidates of golden fields)
 *   commerce    orders, lines, refunds, summaries: orderSummary, RFM, lifecycle, tags
 *   service     tickets
 *   engagement  followers, coupons, group chats, contacts with staff
 *   events      the timeline
 *
 * Every operation is a batch function keyed by the source's OneID record ids (or, one level
 * down, by order ids): many keys in, answers in the same order, `null`/`[]` for a key with no
 * data, a `SourceError` in a key's slot for a malformed row (in a list, in that row's place) and
 * for a failed call (in place of the key's whole answer, `ListSlot`), only for the keys that call
 * carried: a batch cut into chunks loses only the failed chunk's keys. A rejection fails every key.
 * Operations are required: a kind that provides a capability provides all of it.
 */
import type { EventKind, EventQuery, Instant, ListSlot, Money, Slot, SourceAccount, SourceEvent, SourceName } from '../vocabulary';

// ---------- profile ----------

/** The fields of the golden record a profile source can speak to. */
export const PROFILE_FIELDS = [
  'name',
  'phone',
  'email',
  'gender',
  'birthday',
  'city',
  'province',
  'memberTier',
  'registeredAt',
  'registrationChannel',
  'marketingConsent.sms',
  'marketingConsent.email',
  'marketingConsent.wechat',
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

/** A profile value: text (names, E.164 phones, dates, instants, enum names) or a consent flag. */
export type ProfileValue = string | boolean;

/** One record's say on the profile fields, with the times survivorship weighs it by. */
export interface ProfileView {
  recordId: string;
  /** When the source last changed the record; null when it does not say (`mostRecent`). */
  updatedAt: Instant | null;
  /** When the record came to be: created, registered, followed (`earliest`). */
  createdAt: Instant | null;
  values: Partial<Record<ProfileField, ProfileValue | null | undefined>>;
  /** The sales team that owns the person in this system, where it has owners (row scopes: `ownerTeam`). */
  ownerTeam?: string | null;
}

export interface ProfileCapability<R = unknown> {
  /** The fields this source can feed (survivorship refuses to configure others). */
  readonly fields: readonly ProfileField[];
  /** Its records name an owning team (`ProfileView.ownerTeam`): row scopes by team read them. */
  readonly owners?: boolean;
  /**
   * The name of the batch operation below. The kind's own SDL fields load the same records
   * under the same name, so golden fields and those fields share one loader and one call.
   */
  readonly operation: string;
  /** `account`, here and below: the request the call is made for, passed on to every call the connector makes for it (`SourceCall.account`). */
  records(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<R> | null>>;
  /** Pure: what one record says. */
  view(record: R): ProfileView;
  /**
   * Filter pushdown (optional; BI lists): the ids of every record whose `field` holds one of
   * `values` (canonical values, as `view` would answer them; text as `matchText` compares it: any
   * case, full-width as ASCII; a superset is fine, `whereMatchesText`), found by the system itself
   * (an SQL `WHERE … IN`) in one call. Answers null for a field it cannot search that way: the planner
   * then reads the records and looks for itself.
   */
  recordIdsWhere?(field: ProfileField, values: readonly ProfileValue[], account?: SourceAccount): Promise<string[] | null>;
  /** The fields `recordIdsWhere` answers in its one call (the others answer null): a plan's estimate counts one call for them, not a reading of every record. */
  readonly searchable?: readonly ProfileField[];
}

// ---------- commerce ----------

export interface Order {
  /** The commerce source the order lives in; lines and refunds are asked of it. */
  source: SourceName;
  id: string;
  /** The OneID record (shop account, marketplace buyer) that placed it. */
  accountId: string;
  status: string;
  /** Sales channel: tmall, jd, douyin, miniprogram, store, … */
  channel: string;
  total: Money;
  placedAt: Instant;
  paidAt: Instant | null;
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
  /** At most this many orders per record, newest first. */
  limit?: number | null;
}

/**
 * Aggregates over one record's orders, computed in the source where it can (SQL GROUP BY).
 * orderCount counts orders not cancelled; totalSpent is their total less refunds.
 */
export interface OrderSummary {
  accountId: string;
  orderCount: number;
  totalSpent: Money;
  refundedAmount: Money;
  firstOrderAt: Instant | null;
  lastOrderAt: Instant | null;
  /** Total of the counted orders before refunds (= totalSpent + refundedAmount). */
  grossSpent?: Money;
  /** Counted orders with at least one refund. */
  refundedOrderCount?: number;
  /** Counted orders placed within each of `SummaryQuery.windowDays` days before `now`, in that order. */
  recentOrderCounts?: number[];
}

/**
 * The request time a figure over orders ends at: an order placed after it (a source's clock ahead, a
 * bad row) is not counted yet, in any figure (src/sources/summary-span.ts). Summaries, category
 * stats and the RFM base all end here, so one customer's figures speak of the same orders.
 */
export interface AsOf {
  /** The request time. */
  now: Instant;
}

/** Extra aggregates for `orderSummariesByRecordIds`, computed in the same call. */
export interface SummaryQuery extends AsOf {
  /** Window lengths in days for `recentOrderCounts`. */
  windowDays: readonly number[];
}

/** Which orders `orderFacts` aggregates: counted orders placed in [since, before), in a channel, with a line in a category. */
export interface OrderFactQuery {
  since?: Instant | null;
  before?: Instant | null;
  /** Sales channels (any of). */
  channels?: readonly string[] | null;
  /** Product categories (an order counts when one of its lines is in any of them). */
  categories?: readonly string[] | null;
}

/** One record's aggregate over the orders an `OrderFactQuery` selects, in one currency (a record with orders in several answers one fact per currency). */
export interface OrderFact {
  recordId: string;
  /** Counted (not cancelled) orders selected. */
  orders: number;
  /** Their totals less their refunds, in cents of `currency`. */
  spentCents: number;
  /** ISO 4217 code of those orders. */
  currency: string;
  /** The first and last of those orders (a lifecycle stage reads both: NEW by the first, the rest by the last). */
  firstOrderAt: Instant | null;
  lastOrderAt: Instant | null;
}

/** One record's purchases in one product category (counted orders only). */
export interface CategoryStat {
  category: string;
  /** Counted orders with at least one line in the category. */
  orders: number;
  /** Units bought. */
  quantity: number;
}

/**
 * Quintile boundaries of one source's order base, per record with counted orders: for each of
 * recency (last order time), frequency (counted orders) and monetary (net spend in cents), the
 * largest value of quintiles 1..4 (NTILE(5) over ascending values). A value v scores
 * 1 + (number of boundaries below v), so 1 is the oldest / fewest / least and 5 the best.
 * A base of fewer than five records has fewer tiles, one record each: its boundaries are then
 * every record's value. With several commerce sources the gateway combines them
 * (`combineBoundaries` in src/insights/rfm-cache.ts).
 */
export interface RfmBoundaries {
  accounts: number;
  /** Four instants, ascending (one per record for a base of fewer than five). Empty when the base is empty. */
  recency: Instant[];
  frequency: number[];
  /** Cents of `currency`, over the accounts that spend in it (a base in several: the one most accounts spend in). */
  monetary: number[];
  /** Null without a base. */
  currency: string | null;
  computedAt: Instant;
}

/**
 * The largest value of quintiles 1..4 as SQL's NTILE(5) over ascending values cuts them: with n
 * rows, the first n mod 5 tiles hold one row more. Fewer than five rows leave fewer tiles, one
 * row each. For sources that quintile in code what an SQL source quintiles in its statement.
 */
export function ntileUpperBounds(values: readonly number[]): number[] {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  const out: number[] = [];
  const small = Math.floor(n / 5);
  const extra = n % 5;
  let end = 0;
  for (let tile = 1; tile <= 4; tile++) {
    const size = small + (tile <= extra ? 1 : 0);
    if (size === 0) break;
    end += size;
    out.push(v[end - 1]);
  }
  return out;
}

export interface CommerceCapability {
  ordersByRecordIds(ids: readonly string[], query: OrderQuery, account?: SourceAccount): Promise<Array<ListSlot<Order>>>;
  /** Records without orders answer null. */
  orderSummariesByRecordIds(ids: readonly string[], query?: SummaryQuery, account?: SourceAccount): Promise<Array<Slot<OrderSummary> | null>>;
  linesByOrderIds(ids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<OrderLine>>>;
  refundsByOrderIds(ids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<Refund>>>;
  /** Purchases per category over the orders counted by `asOf.now`, most orders first; records without counted orders answer []. */
  categoryStatsByRecordIds(ids: readonly string[], asOf: AsOf, account?: SourceAccount): Promise<Array<ListSlot<CategoryStat>>>;
  /** One aggregate over the source's whole order base as of `asOf.now` (not per key); the gateway caches it. */
  rfmBoundaries(asOf: AsOf, account?: SourceAccount): Promise<RfmBoundaries>;
  /**
   * Filter pushdown (optional; BI lists): per record with at least one selected order, its
   * aggregates, computed by the system in one call (SQL `WHERE … GROUP BY … HAVING`). Without it
   * the planner aggregates the records' orders itself, in batches.
   */
  orderFacts?(query: OrderFactQuery, account?: SourceAccount): Promise<OrderFact[]>;
  /**
   * The calls `orderFacts` would make now, for the plan's estimate (optional: one when absent, an
   * SQL statement): a listing's pages as last counted, 0 while its answer is cached, null unknown.
   */
  orderFactsCalls?(): number | null;
  /**
   * For a listing source whose `orderFactsCalls` is null (never listed): the calls its listing will
   * take, asked of the source in a call or two (optional: the gateway then guesses two pages per
   * hundred of its records). The budget's estimate asks it before charging a cold listing.
   */
  orderFactsPages?(account?: SourceAccount): Promise<number>;
}

// ---------- service ----------

/**
 * The one scale of `Ticket.satisfactionScore` whatever the helpdesk: 1 (worst) to 5 (best), whole
 * numbers. A source rating on another scale (0–10, a CSAT percentage) declares it and its connector
 * maps its scores onto this one, so a BI filter (`lastSatisfaction`) and a tag rule mean the same
 * on every source; a score off the source's declared scale is a bad row, never a number on a
 * scale nobody knows.
 */
export const SATISFACTION_SCALE = { min: 1, max: 5 } as const;

export interface Ticket {
  /** The service source the ticket lives in. */
  source: SourceName;
  id: string;
  requesterId: string;
  subject: string;
  status: string;
  priority: string | null;
  channel: string;
  /** On SATISFACTION_SCALE (1 to 5); null when not rated. */
  satisfactionScore: number | null;
  createdAt: Instant;
  updatedAt: Instant;
  solvedAt: Instant | null;
}

export interface ServiceCapability {
  ticketsByRecordIds(ids: readonly string[], account?: SourceAccount): Promise<Array<ListSlot<Ticket>>>;
}

// ---------- engagement ----------

/** How one record of a person takes part in a channel the company runs (official account, WeCom, …). */
export interface Engagement {
  source: SourceName;
  recordId: string;
  /** What kind of channel: wechat_official_account, wecom, … */
  channel: string;
  /** Follows / is a contact now; null when the channel has no such notion. */
  subscribed: boolean | null;
  /** Since when (followed, added). */
  since: Instant | null;
  /** Staff members (ids) the person is a contact of; empty when none or not known. */
  staff: string[];
  /** Tags the channel gives the person (as the channel names them). */
  tags: string[];
}

export interface EngagementCapability<R = unknown> {
  /**
   * The name of the batch operation below; like profile's, shared with the kind's own fields
   * that load the same records, so engagement adds no call.
   */
  readonly operation: string;
  records(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<R> | null>>;
  /** Pure: how the record takes part in the channel. */
  view(record: R, source: SourceName): Engagement;
  /**
   * Filter pushdown (optional; BI lists): the ids of every record that is subscribed now
   * (`subscribed`) or a contact of at least one staff member (`staffContact`), listed by the
   * system in one pass (calls grow with its listing's pages, never with the matches). Null when
   * it cannot list so: the planner then reads the records.
   */
  recordIdsWhere?(condition: 'subscribed' | 'staffContact', account?: SourceAccount): Promise<string[] | null>;
  /** The calls `recordIdsWhere` would make now (as `CommerceCapability.orderFactsCalls`); null unknown. */
  recordIdsWhereCalls?(): number | null;
  /**
   * Coupons (optional; kinds whose channel issues coupons): per record, how many coupons it
   * holds that are neither redeemed nor expired, one call per batch. Kinds without coupons leave
   * it out, and their records count as holding none.
   */
  unusedCoupons?(ids: readonly string[], account?: SourceAccount): Promise<Array<Slot<number>>>;
}

// ---------- events ----------

export interface EventsCapability {
  /** Every kind of event the source emits. */
  readonly kinds: readonly EventKind[];
  /** Per record, its newest events after the query's position, as `EventQuery` asks. */
  eventsByRecordIds(ids: readonly string[], query: EventQuery, account?: SourceAccount): Promise<Array<ListSlot<SourceEvent>>>;
}

export interface Capabilities {
  profile?: ProfileCapability<any>;
  commerce?: CommerceCapability;
  service?: ServiceCapability;
  engagement?: EngagementCapability<any>;
  events?: EventsCapability;
}

export const CAPABILITY_NAMES = ['profile', 'commerce', 'service', 'engagement', 'events'] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/**
 * The Customer fields that carry the data of the systems providing a capability, item by item or
 * summed: a role that sees one is told that a customer has records in those systems (`tickets`:
 * each ticket's helpdesk; `orderSummary`, `rfm`, `lifecycle`: every commerce source's orders, so an
 * order count with no shop account says "a marketplace buyer"). Events name none here: a role is
 * shown only the kinds whose own field it reads (src/gateway.ts).
 */
export const CAPABILITY_CUSTOMER_FIELDS: { readonly [K in CapabilityName]: readonly string[] } = {
  profile: ['provenance'],
  commerce: ['orders', 'orderSummary', 'rfm', 'lifecycle'],
  service: ['tickets'],
  engagement: ['engagement'],
  events: [],
};

/** What a member of a capability must be at run time. */
type Member = 'function' | 'string' | 'list';

/**
 * Every required member of each capability. The types say the same at compile time; this is for
 * the registry to check at start-up, so a kind that provides a capability in part (a missing
 * operation, an `as` cast, plain JavaScript) stops the gateway instead of failing requests.
 */
const REQUIRED: { readonly [K in CapabilityName]: Readonly<Partial<Record<keyof NonNullable<Capabilities[K]>, Member>>> } = {
  profile: { fields: 'list', operation: 'string', records: 'function', view: 'function' },
  commerce: {
    ordersByRecordIds: 'function',
    orderSummariesByRecordIds: 'function',
    linesByOrderIds: 'function',
    refundsByOrderIds: 'function',
    categoryStatsByRecordIds: 'function',
    rfmBoundaries: 'function',
  },
  service: { ticketsByRecordIds: 'function' },
  engagement: { operation: 'string', records: 'function', view: 'function' },
  events: { kinds: 'list', eventsByRecordIds: 'function' },
};

/** The required members a kind's capabilities lack (`commerce.rfmBoundaries: must be a function`); empty when complete. */
export function capabilityProblems(capabilities: Capabilities): string[] {
  const problems: string[] = [];
  for (const name of CAPABILITY_NAMES) {
    const cap = capabilities[name] as Record<string, unknown> | undefined;
    if (cap === undefined) continue;
    if (!cap || typeof cap !== 'object') {
      problems.push(`${name}: must be an object with the capability's operations`);
      continue;
    }
    for (const [member, want] of Object.entries(REQUIRED[name]) as Array<[string, Member]>) {
      const v = cap[member];
      const ok = want === 'list' ? Array.isArray(v) : typeof v === want;
      if (!ok) problems.push(`${name}.${member}: must be ${want === 'list' ? 'a list' : `a ${want}`}`);
    }
  }
  return problems;
}
