/**
 * One DataLoader set per request (never shared across requests or roles: caches hold what one
 * viewer may see). Each batch function makes one store or connector call, so the number of
 * calls per source is independent of how many customers a query asks for. DataLoader batches
 * the loads made in one tick; resolvers therefore never `await` between two loads of a level.
 */
import DataLoader from 'dataloader';
import type { IdMapReader, CustomerRow, IdentifierKey, IdentifierRow, LinkEvent, SourceRecordKey, SourceRecordRow } from './idmap/types';
import type {
  Connectors,
  Coupon,
  CrmContact,
  CrmTierChange,
  GroupMembership,
  Order,
  OrderLine,
  OrderQuery,
  OrderSummary,
  Refund,
  ScrmFollower,
  ShopAccount,
  Slot,
  SourceName,
  SupportRequester,
  Ticket,
} from './sources/types';

export interface LoaderDeps {
  idmap: IdMapReader;
  connectors: Connectors;
}

/** DataLoader wants an Error per failed key; a connector's error slot is one. */
const asLoaded = <T>(v: T | Error): T | Error => v;

function loader<K, V, C = K>(batch: (keys: readonly K[]) => Promise<Array<V | Error>>, cacheKeyFn?: (k: K) => C) {
  return new DataLoader<K, V, C>(async (keys) => (await batch(keys)).map(asLoaded), { cacheKeyFn });
}

export function createLoaders({ idmap, connectors }: LoaderDeps) {
  const { crm, orders, support, scrm } = connectors;

  // Orders differ by their arguments; one loader per distinct (since, limit) keeps each batch one call.
  const ordersByQuery = new Map<string, DataLoader<string, Slot<Order>[]>>();

  return {
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
    orderSummary: loader<string, OrderSummary | null>((ids) => orders.orderSummariesByAccountIds(ids)),
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
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** The record keys a customer has in one source (one OneID round for all customers of a level). */
export async function recordIdsIn(loaders: Loaders, customerId: string, source: SourceName): Promise<string[]> {
  const records = await loaders.sourceRecords.load(customerId);
  return records.filter((r) => r.source === source).map((r) => r.recordId);
}
