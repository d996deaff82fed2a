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
import type {
  AsOf,
  Capabilities,
  CapabilityName,
  CategoryStat,
  Engagement,
  Order,
  OrderLine,
  OrderQuery,
  OrderSummary,
  ProfileView,
  Refund,
  RfmBoundaries,
  Ticket,
} from './capabilities';
import type { EventQuery, Instant, Slot, SourceAccount, SourceEvent, SourceName } from './vocabulary';
import type { SourceRegistry } from './sources/registry';
import type { BatchLoader } from './sources/kind';
import type { BiStore } from './idmap/bi-store';
import type { RequestSignal } from './errors';

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
  /**
   * For a role told of some systems only: the OneID reads of its lists, whose customers are those
   * with a record in one of them (createBiStore's `told`). Absent: `BiDeps.store`, every customer.
   */
  store?: BiStore;
  /** Whose saved segments the role may change and delete: its principal's own, or any (the policy's `segments`). */
  segments: 'own' | 'any';
  /** Whether the role reads a field (`Type.field`) unmasked: a filter on a tag reads the fields of its rule. */
  reads(field: string): boolean;
}

export interface LoaderDeps {
  idmap: IdMapReader;
  registry: SourceRegistry;
  /** The request time, where windows of recent activity end. Default: when the loaders are made (once per request). */
  now?: Instant;
  /** Windows (days before `now`) the order summary counts recent orders in. Default DEFAULT_ORDER_WINDOW_DAYS. */
  orderWindowDays?: readonly number[];
  /** The RFM quintile boundaries of the whole order base: from a cache shared across requests (src/insights/rfm-cache.ts). */
  rfmBoundaries?: (asOf: AsOf, account?: SourceAccount) => Promise<RfmBoundaries>;
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

/** A request's loader: a batch dispatched after its request was aborted (the client went away) is not made, it fails with the abort's reason. */
function loader<K, V, C = K>(signal: RequestSignal | undefined, batch: (keys: readonly K[]) => Promise<Array<V | Error>>, cacheKeyFn?: (k: K) => C) {
  return new DataLoader<K, V, C>(
    async (keys) => {
      signal?.throwIfAborted();
      return (await batch(keys)).map(asLoaded);
    },
    { cacheKeyFn },
  );
}

/** A capability a source was asked for but does not provide: a misuse, named. */
function missing(source: SourceName, capability: string): never {
  throw new Error(`source ${source} does not provide ${capability}`);
}

/*
 * Helpers of the loaders' methods, at module level: the methods are the prototype methods of
 * RequestLoaders (below), made once, and these keep their optimized code as they do.
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

/** The request's loaders: see the module comment. Made by `createLoaders`; the type resolvers see as `ctx.loaders`. */
export type Loaders = RequestLoaders;

/** `signal`: the request's; once aborted (its client gone), no further source call or OneID read is made for it. */
export function createLoaders(deps: LoaderDeps, signal?: RequestSignal): Loaders {
  return new RequestLoaders(deps, deps.now, deps.account ?? new Map(), signal);
}

/**
 * One request's loaders. A class, so that every method is made once for the process (a bundle of
 * closures per request lost their optimized code at every major GC, see bench/HISTORY.md "Why a round
 * costs the gateway more than its soak"), and its DataLoaders, caches and maps are made when the
 * request first asks for them: a request that reads no customer (`{ __typename }`, a mutation,
 * introspection) makes none. Nothing here is read before it is made: every field below that starts
 * empty is only reached through its getter or method.
 */
class RequestLoaders {
  /** The configured sources. */
  readonly registry: SourceRegistry;
  /** BI lists' store and limits, when served. */
  readonly bi: BiDeps | undefined;
  /** The request's account of its source calls: what `extensions.sources` reports. */
  readonly account: SourceAccount;
  /** The windows, in days, of `OrderSummary.recentOrderCounts`, in that order. */
  readonly orderWindowDays: readonly number[];

  /** When the loaders were made (ms), unless `deps.now` says otherwise: `now`'s ISO text is written on first use. */
  private readonly madeAt: number;
  private nowIso: Instant | undefined;
  private batches: Map<string, DataLoader<string, unknown>> | null = null;
  private providingMade: Map<CapabilityName, unknown> | null = null;
  private profiles: Map<SourceName, BatchLoader<ProfileView | Error | null>> | null = null;
  /** Open groups of `together`: closed after the tick that opened them, like a DataLoader batch. */
  private groups: Map<string, { members: Promise<unknown>[]; settled: Promise<unknown> }> | null = null;
  private customerLoader: DataLoader<string, CustomerRow | null> | null = null;
  private customerIdsByIdentifierLoader: DataLoader<IdentifierKey, string[], string> | null = null;
  private customerIdBySourceRecordLoader: DataLoader<SourceRecordKey, string | null, string> | null = null;
  private sourceRecordsLoader: DataLoader<string, SourceRecordRow[]> | null = null;
  private identifiersLoader: DataLoader<string, IdentifierRow[]> | null = null;
  private linkEventsLoader: DataLoader<string, LinkEvent[]> | null = null;
  private rfmBoundariesLoader: DataLoader<'base', RfmBoundaries> | null = null;

  constructor(
    private readonly deps: LoaderDeps,
    now: Instant | undefined,
    account: SourceAccount,
    /** Aborted when the request's client went away: no batch is dispatched after that. */
    readonly signal?: RequestSignal,
  ) {
    this.registry = deps.registry;
    this.bi = deps.bi;
    this.account = account;
    this.orderWindowDays = [...(deps.orderWindowDays ?? DEFAULT_ORDER_WINDOW_DAYS)];
    this.nowIso = now;
    this.madeAt = now === undefined ? Date.now() : 0;
  }

  /** The request time (ISO): "now" for recency, windows and lifecycle. */
  get now(): Instant {
    return (this.nowIso ??= new Date(this.madeAt).toISOString());
  }

  /** A new loader set over the same deps and request time, with empty caches, booking to `account` (`freshLoaders`). */
  fresh(account: SourceAccount = this.account): RequestLoaders {
    return new RequestLoaders(this.deps, this.now, account, this.signal);
  }

  // ----- OneID -----
  get customer(): DataLoader<string, CustomerRow | null> {
    const idmap = this.deps.idmap;
    return (this.customerLoader ??= loader<string, CustomerRow | null>(this.signal, (ids) => idmap.customersByIds(ids)));
  }
  get customerIdsByIdentifier(): DataLoader<IdentifierKey, string[], string> {
    const idmap = this.deps.idmap;
    return (this.customerIdsByIdentifierLoader ??= loader<IdentifierKey, string[], string>(this.signal, (keys) => idmap.customerIdsByIdentifiers(keys), identifierCacheKey));
  }
  get customerIdBySourceRecord(): DataLoader<SourceRecordKey, string | null, string> {
    const idmap = this.deps.idmap;
    return (this.customerIdBySourceRecordLoader ??= loader<SourceRecordKey, string | null, string>(
      this.signal,
      (keys) => idmap.customerIdsBySourceRecords(keys),
      sourceRecordCacheKey,
    ));
  }
  get sourceRecords(): DataLoader<string, SourceRecordRow[]> {
    const idmap = this.deps.idmap;
    return (this.sourceRecordsLoader ??= loader<string, SourceRecordRow[]>(this.signal, (ids) => idmap.sourceRecordsByCustomerIds(ids)));
  }
  get identifiers(): DataLoader<string, IdentifierRow[]> {
    const idmap = this.deps.idmap;
    return (this.identifiersLoader ??= loader<string, IdentifierRow[]>(this.signal, (ids) => idmap.identifiersByCustomerIds(ids)));
  }
  get linkEvents(): DataLoader<string, LinkEvent[]> {
    const idmap = this.deps.idmap;
    return (this.linkEventsLoader ??= loader<string, LinkEvent[]>(this.signal, (ids) => idmap.linkEventsByCustomerIds(ids)));
  }

  /** The record keys a customer has in one source (one OneID round for all customers of a level). */
  async recordIds(customerId: string, source: SourceName): Promise<string[]> {
    return recordIdsIn(await this.sourceRecords.load(customerId), source);
  }

  /** The sources providing `capability` in which the customer has records, with those records' keys (one OneID round). */
  async recordIdsProviding(customerId: string, capability: CapabilityName): Promise<Array<{ source: SourceName; ids: string[] }>> {
    return recordIdsByProvider(await this.sourceRecords.load(customerId), this.providing(capability));
  }

  /** `registry.providing`, made once per request and capability (the registry does not change). */
  providing<K extends CapabilityName>(capability: K): Array<{ name: SourceName; capability: NonNullable<Capabilities[K]> }> {
    const made = (this.providingMade ??= new Map());
    let p = made.get(capability);
    if (!p) made.set(capability, (p = this.registry.providing(capability)));
    return p as never;
  }

  connector<C>(source: SourceName): C {
    return (this.registry.get(source) ?? missing(source, 'a connector')).connector as C;
  }

  /**
   * Resolves with `p` once every promise joined to `group` in the same tick has settled (KindContext.loaders.together).
   */
  together<T>(group: string, p: Promise<T>): Promise<T> {
    const groups = (this.groups ??= new Map());
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

  /** The request's loader for one batch operation of one source; see KindContext.loaders.batch. */
  batch<V>(source: SourceName, operation: string, call: (keys: readonly string[], account: SourceAccount) => Promise<Array<V | Error>>, variant = ''): BatchLoader<V> {
    return this.batchLoader(source, operation, call, variant);
  }

  private batchLoader<V>(
    source: SourceName,
    operation: string,
    call: (keys: readonly string[], account: SourceAccount) => Promise<Array<V | Error>>,
    variant = '',
  ): DataLoader<string, V> {
    const batches = (this.batches ??= new Map());
    const key = `${source}\u0000${operation}\u0000${variant}`;
    let l = batches.get(key) as DataLoader<string, V> | undefined;
    if (!l) {
      const { span } = this.deps;
      const account = this.account;
      // One span per batch the loader dispatches; the connector's calls (chunks, retries) are its children.
      const traced = span
        ? (keys: readonly string[]) =>
            span(`batch ${source} ${operation}`, { 'c360.source': source, 'c360.operation': operation, 'c360.batch_size': keys.length }, () => call(keys, account))
        : (keys: readonly string[]) => call(keys, account);
      batches.set(key, (l = loader<string, V>(this.signal, traced)) as DataLoader<string, unknown>);
    }
    return l;
  }

  private cap<K extends 'profile' | 'commerce' | 'service' | 'engagement' | 'events'>(source: SourceName, k: K) {
    return this.registry.get(source)?.capabilities[k] ?? missing(source, k);
  }

  // ----- capabilities, per source -----
  /** The source's records as profile views (the same loader as the kind's own field over those records). */
  profile(source: SourceName): BatchLoader<ProfileView | Error | null> {
    // Every golden field of every customer asks for this: made once per request, and each record's view computed once.
    const profiles = (this.profiles ??= new Map());
    const made = profiles.get(source);
    if (made) return made;
    const p = this.cap(source, 'profile');
    const records = this.batchLoader(source, p.operation, (ids, a) => p.records(ids, a));
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
  }
  engagement(source: SourceName): BatchLoader<Engagement | Error | null> {
    const e = this.cap(source, 'engagement');
    const records = this.batchLoader(source, e.operation, (ids, a) => e.records(ids, a));
    const view = (r: unknown) => (r instanceof Error || r == null ? (r as Error | null) : e.view(r, source));
    return { load: async (id) => view(await records.load(id)), loadMany: async (ids) => (await records.loadMany(ids)).map(view) };
  }
  /** Always with the request's windows, so the plain summary and the insights share one call. */
  orderSummaries(source: SourceName): DataLoader<string, Slot<OrderSummary> | null> {
    return this.batchLoader<Slot<OrderSummary> | null>(source, 'orderSummariesByRecordIds', (ids, a) =>
      this.cap(source, 'commerce').orderSummariesByRecordIds(ids, { now: this.now, windowDays: this.orderWindowDays as number[] }, a),
    );
  }
  /** Orders differ by their arguments; one loader per distinct (since, limit) keeps each batch one call. */
  orders(source: SourceName, query: OrderQuery): DataLoader<string, Slot<Order>[]> {
    return this.batchLoader<Slot<Order>[]>(
      source,
      'ordersByRecordIds',
      (ids, a) => this.cap(source, 'commerce').ordersByRecordIds(ids, query, a),
      JSON.stringify([query.since ?? null, query.limit ?? null]),
    );
  }
  orderLines(source: SourceName): DataLoader<string, Slot<OrderLine>[]> {
    return this.batchLoader<Slot<OrderLine>[]>(source, 'linesByOrderIds', (ids, a) => this.cap(source, 'commerce').linesByOrderIds(ids, a));
  }
  refunds(source: SourceName): DataLoader<string, Slot<Refund>[]> {
    return this.batchLoader<Slot<Refund>[]>(source, 'refundsByOrderIds', (ids, a) => this.cap(source, 'commerce').refundsByOrderIds(ids, a));
  }
  categoryStats(source: SourceName): DataLoader<string, Slot<CategoryStat>[]> {
    return this.batchLoader<Slot<CategoryStat>[]>(source, 'categoryStatsByRecordIds', (ids, a) =>
      this.cap(source, 'commerce').categoryStatsByRecordIds(ids, { now: this.now }, a),
    );
  }
  tickets(source: SourceName): DataLoader<string, Slot<Ticket>[]> {
    return this.batchLoader<Slot<Ticket>[]>(source, 'ticketsByRecordIds', (ids, a) => this.cap(source, 'service').ticketsByRecordIds(ids, a));
  }
  /** Per source record key, its newest events after the query's position (timeline pages: one loader per query). */
  events(source: SourceName, query: EventQuery): DataLoader<string, Slot<SourceEvent>[]> {
    return this.batchLoader<Slot<SourceEvent>[]>(
      source,
      'eventsByRecordIds',
      (ids, a) => this.cap(source, 'events').eventsByRecordIds(ids, query, a),
      JSON.stringify([query.after, query.since, query.kinds, query.limit]),
    );
  }

  /** One key ('base'): the whole order base's boundaries, from the cross-request cache. */
  get rfmBoundaries(): DataLoader<'base', RfmBoundaries> {
    const { rfmBoundaries } = this.deps;
    const account = this.account;
    return (this.rfmBoundariesLoader ??= loader<'base', RfmBoundaries>(this.signal, async (keys) => {
      if (!rfmBoundaries) throw new Error('loaders: rfmBoundaries was not given (the context passes the insights runtime cache)');
      const b = await rfmBoundaries({ now: this.now }, account);
      return keys.map(() => b);
    }));
  }
}

const identifierCacheKey = (k: IdentifierKey) => `${k.kind}\u0000${k.value}`;
const sourceRecordCacheKey = (k: SourceRecordKey) => `${k.source}\u0000${k.recordId}`;

/**
 * A new loader set over the same deps and request time, with empty caches. BI plans verify
 * customers batch after batch with one each, so a walk over every customer does not keep
 * every record it read in the request's caches. Given an `account`, its calls are booked there
 * instead of the request's (a row-scoped plan's calls must not reach `extensions.sources`).
 */
export function freshLoaders(loaders: Loaders, account?: SourceAccount): Loaders {
  if (!(loaders instanceof RequestLoaders)) throw new Error('freshLoaders: not a loader set made by createLoaders');
  return loaders.fresh(account);
}
