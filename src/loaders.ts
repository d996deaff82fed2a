/**
 * One DataLoader set per request (never shared across requests or roles: caches hold what one
 * viewer may see). Each batch function makes one store or connector call, so the number of
 * calls per source is independent of how many customers a query asks for. DataLoader batches
 * the loads made in one tick; resolvers therefore never `await` between two loads of a level.
 *
 * Source loaders are made on demand, one per (source, operation, variant), from the registry:
 * nothing here names a source. The capability loaders below are the same `batch` under the
 * capability's operation names, so a kind's own field and a golden field that load the same
 * records share one loader and one call.
 */
import DataLoader from 'dataloader';
import type { IdMapReader, CustomerRow, IdentifierKey, IdentifierRow, LinkEvent, SourceRecordKey, SourceRecordRow } from './idmap/types';
import type { CapabilityName, CategoryStat, Engagement, Order, OrderLine, OrderQuery, OrderSummary, ProfileView, Refund, RfmBoundaries, Ticket } from './capabilities';
import type { EventQuery, Instant, Slot, SourceAccount, SourceEvent, SourceName } from './vocabulary';
import type { SourceRegistry } from './sources/registry';
import type { BatchLoader } from './sources/kind';
import type { BiStore } from './idmap/bi-store';

/** What BI lists need beyond the loaders: the OneID BI store and, per role, what its access policy says. */
export interface BiDeps {
  store: BiStore;
  /** The role's page limit, cost budget and row scope; undefined for an unknown role. */
  roleOf(role: string): BiRole | undefined;
}

export interface BiRole {
  /** Largest page (`first`) the role may ask for. */
  maxPage: number;
  /** The role's cost budget (the policy's maxCost). */
  maxCost: number;
  /** The role's row scope as a check per customer, given the request context; absent: every customer. */
  scope?(ctx: unknown, customerIds: readonly string[]): Promise<boolean[]>;
}

export interface LoaderDeps {
  idmap: IdMapReader;
  registry: SourceRegistry;
  /** The request time, where windows of recent activity end. Default: when the loaders are made (once per request). */
  now?: Instant;
  /** Windows (days before `now`) the order summary counts recent orders in. Default DEFAULT_ORDER_WINDOW_DAYS. */
  orderWindowDays?: readonly number[];
  /** The RFM quintile boundaries of the whole order base: from a cache shared across requests (src/insights/rfm-cache.ts). */
  rfmBoundaries?: (account?: SourceAccount) => Promise<RfmBoundaries>;
  /** BI lists (src/bi/); absent where they are not served. */
  bi?: BiDeps;
  /** The request's account of its source calls (`extensions.sources`, a BI plan's actual calls): every connector call is booked to it. */
  account?: SourceAccount;
  /** Runs a loader batch in a trace span of its own (src/observability/tracing.ts); absent when tracing is off. */
  span?: <T>(name: string, attributes: Record<string, string | number>, fn: () => Promise<T>) => Promise<T>;
}

/** The windows `orderSummary` counts recent orders in unless told otherwise: its own 30/90/365 days and the 7 of the high_activity tag. */
export const DEFAULT_ORDER_WINDOW_DAYS: readonly number[] = [7, 30, 90, 365];

/** DataLoader wants an Error per failed key; a connector's error slot is one. */
const asLoaded = <T>(v: T | Error): T | Error => v;

function loader<K, V, C = K>(batch: (keys: readonly K[]) => Promise<Array<V | Error>>, cacheKeyFn?: (k: K) => C) {
  return new DataLoader<K, V, C>(async (keys) => (await batch(keys)).map(asLoaded), { cacheKeyFn });
}

/** A capability a source was asked for but does not provide: a misuse, named. */
function missing(source: SourceName, capability: string): never {
  throw new Error(`source ${source} does not provide ${capability}`);
}

/*
 * The work of the per-request loader methods lives in module-level functions: the methods are
 * closures made per request, and V8 keeps a closure's optimized code only weakly (dropped by a
 * major GC while none of them is alive, e.g. while the gateway idles), so what they run
 * themselves is compiled again after every idle spell. Module-level functions keep their code.
 */

/** The keys of a customer's records in one source. */
function recordIdsIn(linked: readonly SourceRecordRow[], source: SourceName): string[] {
  const ids: string[] = [];
  for (let i = 0; i < linked.length; i++) if (linked[i].source === source) ids.push(linked[i].recordId);
  return ids;
}

/** A customer's record keys per providing source, in the providers' order; sources without records left out. */
function recordIdsByProvider(linked: readonly SourceRecordRow[], providers: ReadonlyArray<{ name: SourceName }>): Array<{ source: SourceName; ids: string[] }> {
  // One pass over the customer's records (sorted by source) per provider: every customer of a list asks.
  const out: Array<{ source: SourceName; ids: string[] }> = [];
  for (let p = 0; p < providers.length; p++) {
    const source = providers[p].name;
    let ids: string[] | null = null;
    for (let i = 0; i < linked.length; i++) if (linked[i].source === source) (ids ??= []).push(linked[i].recordId);
    if (ids) out.push({ source, ids });
  }
  return out;
}

export function createLoaders(deps: LoaderDeps) {
  const { idmap, registry, now = new Date().toISOString(), orderWindowDays = DEFAULT_ORDER_WINDOW_DAYS, rfmBoundaries, account = new Map() } = deps;
  const batches = new Map<string, DataLoader<string, unknown>>();
  const windowDays = [...orderWindowDays];
  const cap = <K extends 'profile' | 'commerce' | 'service' | 'engagement' | 'events'>(source: SourceName, k: K) =>
    registry.get(source)?.capabilities[k] ?? missing(source, k);

  /** The request's loader for one batch operation of one source; see KindContext.loaders.batch. */
  function batch<V>(
    source: SourceName,
    operation: string,
    call: (keys: readonly string[], account: SourceAccount) => Promise<Array<V | Error>>,
    variant = '',
  ): DataLoader<string, V> {
    const key = `${source}\u0000${operation}\u0000${variant}`;
    let l = batches.get(key) as DataLoader<string, V> | undefined;
    if (!l) {
      const { span } = deps;
      // One span per batch the loader dispatches; the connector's calls (chunks, retries) are its children.
      const traced = span
        ? (keys: readonly string[]) =>
            span(`batch ${source} ${operation}`, { 'c360.source': source, 'c360.operation': operation, 'c360.batch_size': keys.length }, () => call(keys, account))
        : (keys: readonly string[]) => call(keys, account);
      batches.set(key, (l = loader<string, V>(traced)) as DataLoader<string, unknown>);
    }
    return l;
  }

  const sourceRecords = loader<string, SourceRecordRow[]>((ids) => idmap.sourceRecordsByCustomerIds(ids));
  const providingMade = new Map<CapabilityName, unknown>();
  const providing: SourceRegistry['providing'] = (capability) => {
    let p = providingMade.get(capability);
    if (!p) providingMade.set(capability, (p = registry.providing(capability)));
    return p as never;
  };
  const profiles = new Map<SourceName, BatchLoader<ProfileView | Error | null>>();

  // Open groups of `together`: closed after the tick that opened them, like a DataLoader batch.
  const groups = new Map<string, { members: Promise<unknown>[]; settled: Promise<unknown> }>();
  function together<T>(group: string, p: Promise<T>): Promise<T> {
    let g = groups.get(group);
    if (!g) {
      const members: Promise<unknown>[] = [];
      // Scheduled as DataLoader schedules a batch: after the current promise jobs, so every
      // resolver continuing from the same OneID round joins before the group closes.
      const settled = new Promise<unknown>((resolve) =>
        Promise.resolve().then(() =>
          process.nextTick(() => {
            groups.delete(group);
            resolve(Promise.allSettled(members));
          }),
        ),
      );
      groups.set(group, (g = { members, settled }));
    }
    g.members.push(p);
    return g.settled.then(() => p);
  }

  const loaders = {
    /** The request time (ISO): "now" for recency, windows and lifecycle. */
    now,
    /** The windows, in days, of `OrderSummary.recentOrderCounts`, in that order. */
    orderWindowDays: windowDays as readonly number[],
    /** The configured sources. */
    registry,
    /** BI lists' store and limits, when served. */
    bi: deps.bi,
    /** The request's account of its source calls: what `extensions.sources` reports. */
    account,

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
    sourceRecords,
    identifiers: loader<string, IdentifierRow[]>((ids) => idmap.identifiersByCustomerIds(ids)),
    linkEvents: loader<string, LinkEvent[]>((ids) => idmap.linkEventsByCustomerIds(ids)),

    /** The record keys a customer has in one source (one OneID round for all customers of a level). */
    async recordIds(customerId: string, source: SourceName): Promise<string[]> {
      return recordIdsIn(await sourceRecords.load(customerId), source);
    },

    /** The sources providing `capability` in which the customer has records, with those records' keys (one OneID round). */
    async recordIdsProviding(customerId: string, capability: CapabilityName): Promise<Array<{ source: SourceName; ids: string[] }>> {
      return recordIdsByProvider(await sourceRecords.load(customerId), providing(capability));
    },

    /** `registry.providing`, made once per request and capability (the registry does not change). */
    providing,

    connector: <C>(source: SourceName): C => (registry.get(source) ?? missing(source, 'a connector')).connector as C,

    together,

    batch: batch as <V>(
      source: SourceName,
      operation: string,
      call: (keys: readonly string[], account: SourceAccount) => Promise<Array<V | Error>>,
      variant?: string,
    ) => BatchLoader<V>,

    // ----- capabilities, per source -----
    /** The source's records as profile views (the same loader as the kind's own field over those records). */
    profile(source: SourceName): BatchLoader<ProfileView | Error | null> {
      // Every golden field of every customer asks for this: made once per request, and each record's view computed once.
      const made = profiles.get(source);
      if (made) return made;
      const p = cap(source, 'profile');
      const records = batch(source, p.operation, (ids, a) => p.records(ids, a));
      const views = new WeakMap<object, ProfileView>();
      const view = (r: unknown) => {
        if (r instanceof Error || r == null) return r as Error | null;
        let v = views.get(r);
        if (!v) views.set(r, (v = p.view(r)));
        return v;
      };
      const l: BatchLoader<ProfileView | Error | null> = {
        load: async (id) => view(await records.load(id)),
        loadMany: async (ids) => (await records.loadMany(ids)).map(view),
      };
      profiles.set(source, l);
      return l;
    },
    engagement(source: SourceName): BatchLoader<Engagement | Error | null> {
      const e = cap(source, 'engagement');
      const records = batch(source, e.operation, (ids, a) => e.records(ids, a));
      const view = (r: unknown) => (r instanceof Error || r == null ? (r as Error | null) : e.view(r, source));
      return { load: async (id) => view(await records.load(id)), loadMany: async (ids) => (await records.loadMany(ids)).map(view) };
    },
    // Always with the request's windows, so the plain summary and the insights share one call.
    orderSummaries: (source: SourceName) =>
      batch<Slot<OrderSummary> | null>(source, 'orderSummariesByRecordIds', (ids, a) => cap(source, 'commerce').orderSummariesByRecordIds(ids, { now, windowDays }, a)),
    /** Orders differ by their arguments; one loader per distinct (since, limit) keeps each batch one call. */
    orders: (source: SourceName, query: OrderQuery) =>
      batch<Slot<Order>[]>(
        source,
        'ordersByRecordIds',
        (ids, a) => cap(source, 'commerce').ordersByRecordIds(ids, query, a),
        JSON.stringify([query.since ?? null, query.limit ?? null]),
      ),
    orderLines: (source: SourceName) => batch<Slot<OrderLine>[]>(source, 'linesByOrderIds', (ids, a) => cap(source, 'commerce').linesByOrderIds(ids, a)),
    refunds: (source: SourceName) => batch<Slot<Refund>[]>(source, 'refundsByOrderIds', (ids, a) => cap(source, 'commerce').refundsByOrderIds(ids, a)),
    categoryStats: (source: SourceName) =>
      batch<Slot<CategoryStat>[]>(source, 'categoryStatsByRecordIds', (ids, a) => cap(source, 'commerce').categoryStatsByRecordIds(ids, a)),
    tickets: (source: SourceName) => batch<Slot<Ticket>[]>(source, 'ticketsByRecordIds', (ids, a) => cap(source, 'service').ticketsByRecordIds(ids, a)),
    /** Per source record key, its newest events after the query's position (timeline pages: one loader per query). */
    events: (source: SourceName, query: EventQuery) =>
      batch<Slot<SourceEvent>[]>(
        source,
        'eventsByRecordIds',
        (ids, a) => cap(source, 'events').eventsByRecordIds(ids, query, a),
        JSON.stringify([query.after, query.since, query.kinds, query.limit]),
      ),

    /** One key ('base'): the whole order base's boundaries, from the cross-request cache. */
    rfmBoundaries: loader<'base', RfmBoundaries>(async (keys) => {
      if (!rfmBoundaries) throw new Error('loaders: rfmBoundaries was not given (the context passes the insights runtime cache)');
      const b = await rfmBoundaries(account);
      return keys.map(() => b);
    }),
  };
  depsOf.set(loaders, { ...deps, now, account });
  return loaders;
}

export type Loaders = ReturnType<typeof createLoaders>;

const depsOf = new WeakMap<object, LoaderDeps>();

/**
 * A new loader set over the same deps and request time, with empty caches. BI plans verify
 * customers batch after batch with one each, so a walk over every customer does not keep
 * every record it read in the request's caches.
 */
export function freshLoaders(loaders: Loaders): Loaders {
  const deps = depsOf.get(loaders);
  if (!deps) throw new Error('freshLoaders: not a loader set made by createLoaders');
  return createLoaders(deps);
}
