/**
 * One DataLoader set per request (never shared across requests or roles: caches hold what one
 * viewer may see). Each batch function makes one store or connector call, so the number of
 * calls per source is independent of how many customers a query asks for. DataLoader batches
 * the loads made in one tick; resolvers therefore never `await` between two loads of a level.
 */
import DataLoader from 'dataloader';
import type { IdMapReader, CustomerRow, IdentifierKey, IdentifierRow, LinkEvent, SourceRecordKey, SourceRecordRow } from './idmap/types';
import type {
  CategoryStat,
  Connectors,
  Coupon,
  CrmContact,
  CrmTierChange,
  EventQuery,
  GroupMembership,
  Instant,
  Order,
  OrderLine,
  OrderQuery,
  OrderSummary,
  Refund,
  RfmBoundaries,
  ScrmFollower,
  ShopAccount,
  Slot,
  SourceEvent,
  SourceName,
  SupportRequester,
  Ticket,
} from './sources/types';
import { boundaryCacheFor } from './insights/rfm-cache';

export interface LoaderDeps {
  idmap: IdMapReader;
  connectors: Connectors;
  /** The request time, where windows of recent activity end. Default: when the loaders are made (once per request). */
  now?: Instant;
  /** Windows (days before `now`) the order summary counts recent orders in. Default DEFAULT_ORDER_WINDOW_DAYS. */
  orderWindowDays?: readonly number[];
  /** Where the RFM quintile boundaries come from: a cache shared across requests (src/insights/rfm-cache.ts). */
  rfmBoundaries?: () => Promise<RfmBoundaries>;
}

/** The windows `orderSummary` counts recent orders in unless told otherwise: its own 30/90/365 days and the 7 of the high_activity tag. */
export const DEFAULT_ORDER_WINDOW_DAYS: readonly number[] = [7, 30, 90, 365];

/** An optional connector function (see types.ts), or a failure naming it. */
function need<F extends (...args: any[]) => any>(fn: F | undefined, self: object, name: string): F {
  if (!fn) throw new Error(`connector function ${name} is missing: every real connector has it`);
  return fn.bind(self) as F;
}

/** DataLoader wants an Error per failed key; a connector's error slot is one. */
const asLoaded = <T>(v: T | Error): T | Error => v;

function loader<K, V, C = K>(batch: (keys: readonly K[]) => Promise<Array<V | Error>>, cacheKeyFn?: (k: K) => C) {
  return new DataLoader<K, V, C>(async (keys) => (await batch(keys)).map(asLoaded), { cacheKeyFn });
}

export function createLoaders({ idmap, connectors, now = new Date().toISOString(), orderWindowDays = DEFAULT_ORDER_WINDOW_DAYS, rfmBoundaries }: LoaderDeps) {
  const { crm, orders, support, scrm } = connectors;

  // Orders differ by their arguments; one loader per distinct (since, limit) keeps each batch one call.
  const ordersByQuery = new Map<string, DataLoader<string, Slot<Order>[]>>();
  // Likewise timeline pages: one loader per (source, position, since, kinds, limit).
  const eventsByQuery = new Map<string, DataLoader<string, Slot<SourceEvent>[]>>();
  const eventBatch: Record<SourceName, (ids: readonly string[], q: EventQuery) => Promise<Array<Slot<SourceEvent>[]>>> = {
    crm: (ids, q) => need(crm.eventsByContactIds, crm, 'crm.eventsByContactIds')(ids, q),
    orders: (ids, q) => need(orders.eventsByAccountIds, orders, 'orders.eventsByAccountIds')(ids, q),
    support: (ids, q) => need(support.eventsByRequesterIds, support, 'support.eventsByRequesterIds')(ids, q),
    scrm: (ids, q) => need(scrm.eventsByOpenids, scrm, 'scrm.eventsByOpenids')(ids, q),
  };
  const windowDays = [...orderWindowDays];
  const boundaries = rfmBoundaries ?? (() => boundaryCacheFor(orders).get());

  return {
    /** The request time (ISO): "now" for recency, windows and lifecycle. */
    now,
    /** The windows, in days, of `OrderSummary.recentOrderCounts`, in that order. */
    orderWindowDays: windowDays as readonly number[],

    // ----- OneID -----
    customer: loader<string, CustomerRow | null>((ids) => idmap.customersByIds(ids)),
    customerIdsByIdentifier: loader<IdentifierKey, string[], string>(
      (keys) => idmap.customerIdsByIdentifiers(keys),
      (k) => `${k.kind}\u0000${k.value}`,
    ),
    customerIdBySourceRecord: loader<SourceRecordKey, string | null, string>(
      (keys) => idmap.customerIdsBySourceRecords(keys),
      (k) => `${k.source}\u0000${k.recordId}`,
    ),
    sourceRecords: loader<string, SourceRecordRow[]>((ids) => idmap.sourceRecordsByCustomerIds(ids)),
    identifiers: loader<string, IdentifierRow[]>((ids) => idmap.identifiersByCustomerIds(ids)),
    linkEvents: loader<string, LinkEvent[]>((ids) => idmap.linkEventsByCustomerIds(ids)),

    // ----- CRM -----
    crmContact: loader<string, CrmContact | null>((ids) => crm.contactsByIds(ids)),
    crmTierChanges: loader<string, Slot<CrmTierChange>[]>((ids) => crm.tierChangesByContactIds(ids)),

    // ----- Orders -----
    shopAccount: loader<string, ShopAccount | null>((ids) => orders.accountsByIds(ids)),
    // Always with the request's windows, so the plain summary and the insights share one call.
    orderSummary: loader<string, OrderSummary | null>((ids) => orders.orderSummariesByAccountIds(ids, { now, windowDays })),
    categoryStats: loader<string, Slot<CategoryStat>[]>((ids) => need(orders.categoryStatsByAccountIds, orders, 'orders.categoryStatsByAccountIds')(ids)),
    /** One key ('base'): the whole order base's boundaries, from the cross-request cache. */
    rfmBoundaries: loader<'base', RfmBoundaries>(async (keys) => {
      const b = await boundaries();
      return keys.map(() => b);
    }),
    ordersByAccount(query: OrderQuery): DataLoader<string, Slot<Order>[]> {
      const key = JSON.stringify([query.since ?? null, query.limit ?? null]);
      let l = ordersByQuery.get(key);
      if (!l) ordersByQuery.set(key, (l = loader((ids) => orders.ordersByAccountIds(ids, query))));
      return l;
    },
    orderLines: loader<string, Slot<OrderLine>[]>((ids) => orders.linesByOrderIds(ids)),
    refunds: loader<string, Slot<Refund>[]>((ids) => orders.refundsByOrderIds(ids)),

    // ----- Support -----
    supportRequester: loader<string, SupportRequester | null>((ids) => support.requestersByIds(ids)),
    ticketsByRequester: loader<string, Slot<Ticket>[]>((ids) => support.ticketsByRequesterIds(ids)),

    // ----- SCRM -----
    scrmFollower: loader<string, ScrmFollower | null>((openids) => scrm.followersByOpenids(openids)),
    coupons: loader<string, Slot<Coupon>[]>((openids) => scrm.couponsByOpenids(openids)),
    groups: loader<string, Slot<GroupMembership>[]>((openids) => scrm.groupsByOpenids(openids)),

    // ----- Timeline (every source) -----
    /** Per source record key, its newest events after the query's position. */
    events(source: SourceName, query: EventQuery): DataLoader<string, Slot<SourceEvent>[]> {
      const key = JSON.stringify([source, query.after, query.since, query.kinds, query.limit]);
      let l = eventsByQuery.get(key);
      if (!l) eventsByQuery.set(key, (l = loader((ids) => eventBatch[source](ids, query))));
      return l;
    },
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** The record keys a customer has in one source (one OneID round for all customers of a level). */
export async function recordIdsIn(loaders: Loaders, customerId: string, source: SourceName): Promise<string[]> {
  const records = await loaders.sourceRecords.load(customerId);
  return records.filter((r) => r.source === source).map((r) => r.recordId);
}
