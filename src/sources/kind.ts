/**
 * The contract of a source kind: one module per kind of existing system (a CRM database, a
 * shop, a helpdesk API, a WeChat official account, WeCom, a marketplace, a mapped SQL table),
 * found by the registry (src/sources/registry.ts) as `src/sources/<kind>/index.ts` exporting
 * `kind`. Config lists *instances* of kinds (`sources: [{ "name": "crm", "kind": "crm", … }]`):
 * two shops of one kind are two instances, two OneID `source` names.
 *
 * A kind declares everything the rest of the gateway needs, and the rest of the gateway
 * never names a kind or an instance:
 *   - `options`: the zod schema of an instance's options (besides name, kind, webhookSecret);
 *   - `create`: the connector of one instance, the ONLY code that talks to that system;
 *   - `capabilities`: what the core computes on (src/capabilities);
 *   - `sdl` + `resolvers`: fields only this kind has (`Customer.crmContacts`), shared by its
 *     instances (a field lists the records of every instance of the kind);
 *   - `events`: the timeline event kinds it emits, each with the description the schema shows;
 *   - `check`: an optional start-up check against the real system (a mapped table exists).
 *
 * A kind imports only what lies below it: the vocabulary, the capability contracts, errors,
 * canonical conversions and the shared transports (http.ts, sql.ts, observe.ts). Its
 * resolvers see the request through `KindContext`, a narrow view of the gateway's context.
 */
import type { z } from 'zod';
import type { CountryCode } from 'libphonenumber-js';
import type { Capabilities } from '../capabilities';
import type { Connector, EventKind, SourceAccount, SourceName } from '../vocabulary';
import type { SourceObserver } from './observe';

/** A request's loader for one batch operation (DataLoader's face, reduced to what resolvers use). */
export interface BatchLoader<V> {
  load(key: string): Promise<V>;
  loadMany(keys: readonly string[]): Promise<Array<V | Error>>;
}

/** What a kind's resolvers see of the request context. */
export interface KindContext {
  loaders: {
    /**
     * The request's loader for `operation` of `source`: one per (source, operation, variant),
     * so every customer of a query level shares one call. `variant` separates calls whose
     * extra arguments differ (a page size). Loads made in one tick form one batch. `call` gets the
     * request's account with the keys: the connector passes it on to each call it makes.
     */
    batch<V>(source: SourceName, operation: string, call: (keys: readonly string[], account: SourceAccount) => Promise<Array<V | Error>>, variant?: string): BatchLoader<V>;
    /** The record keys a customer has in `source` (one OneID round for all customers of a level). */
    recordIds(customerId: string, source: SourceName): Promise<string[]>;
    /**
     * The connector of `source` serving this request. Resolvers take connectors from here, never
     * from where the schema was built: a schema depends only on which instances exist.
     */
    connector<C extends Connector>(source: SourceName): C;
    /**
     * Resolves with `p`, but only once every promise joined to `group` in the same tick has
     * settled. Customers of one query level load from several sources that answer at different
     * times; joined, they move on together, so the next level still batches into one call per source.
     */
    together<T>(group: string, p: Promise<T>): Promise<T>;
  };
  limits: { maxFirst: number };
}

/**
 * One configured instance of a kind, as its resolvers get it when the schema is built. Only its
 * name counts there; `connector` is that build's and must not be called from a resolver (use
 * `ctx.loaders.connector(name)`, the request's).
 */
export interface SourceInstance<C extends Connector = Connector> {
  name: SourceName;
  connector: C;
}

/** What the deployment decides for each instance, outside its options. */
export interface InstanceSettings {
  /**
   * The region a phone written without a country code is read in: the identity rules' region of
   * this source (`sourceRegions`, else `defaultPhoneRegion`). OneID reads the source's phones in
   * it; a connector that reads them in another would serve `Customer.phone` a different number
   * (`020 7946 0958` is London there and Guangzhou here) or none.
   */
  phoneRegion: CountryCode;
}

/** Resolver maps, as graphql-tools takes them (type → field → resolver, or enum value maps). */
export type KindResolvers = Record<string, Record<string, unknown>>;

export interface SourceKind<Options = any, C extends Connector = Connector> {
  /** The `kind` string config names: lower kebab case (`crm`, `wecom`, `sql-table`). */
  readonly kind: string;
  /** What system this is, one line (docs, errors, the `SourceName` enum's descriptions). */
  readonly title: string;
  /** An instance's options, strict: an unknown key is a config error naming it. */
  readonly options: z.ZodType<Options>;
  /** Options that are file paths (SQLite files), resolved like every path in the config (against the working directory) before `create`. */
  resolvePaths?(options: Options, resolve: (p: string) => string): Options;
  /** The connector of one instance; observer sees every call it makes; `settings` (absent: the defaults, CN phones) are what the deployment decides for every instance alike. */
  create(name: SourceName, options: Options, observer: SourceObserver, settings?: InstanceSettings): C;
  /**
   * Start-up check against the real system; throws an Error whose message names the option at fault (`profile.fields.phone.column: …`,
   * one problem a line; the gateway prefixes `sources[<name>].`), or the connector's SourceError when the system did not answer:
   * that instance is then left unchecked, not refused (a source may be down at start; registry.ts `checkSources`).
   */
  check?(connector: C): Promise<void>;
  /** What the core may compute on with this connector. */
  capabilities(connector: C): Capabilities;
  /** The kind's own SDL (types, `extend type Customer` fields), once for all its instances. */
  readonly sdl?: string;
  /** Resolvers of `sdl`, closed over the configured instances of the kind. */
  resolvers?(instances: ReadonlyArray<SourceInstance<C>>): KindResolvers;
  /** Timeline event kinds it emits → description (shown on the `TimelineEventKind` enum). */
  readonly events?: Readonly<Record<EventKind, string>>;
  /**
   * Event kind → where each of its values comes from: the field (`Type.field`) a `title`, `amount`,
   * `status`, `score`, … is taken from (a ticket's subject and satisfaction score, an order's total).
   * The value is that field's data: a role that may not see the field unmasked sees null there. A
   * value not declared is withheld from every role (deny by default); `null` declares a constant of
   * the kind's own (not a record's data), shown to every role that sees the event.
   *
   * `occurred` names the field the event itself is read from (a ticket opened is `Ticket.createdAt`,
   * a rating `Ticket.satisfactionScore`): its time, ids and existence are that field's data, so a role
   * that may not read it is not shown the event at all (its sources are not asked for that kind). A
   * kind that declares none is shown to no role (deny by default).
   */
  readonly eventFields?: Readonly<Partial<Record<EventKind, EventOrigins>>>;
}

/** The values of a timeline event that come from a record's fields (`TimelineEvent`'s data fields). */
export const EVENT_VALUES = ['title', 'amount', 'channel', 'status', 'score', 'fromTier', 'toTier'] as const;
export type EventValue = (typeof EVENT_VALUES)[number];
/** Per value, the field it is taken from (`Type.field`), or null for the kind's own constant; `occurred`, the field the event is. */
export type EventOrigins = Readonly<Partial<Record<EventValue, string | null>>> & { readonly occurred?: string };

/** Identity function that checks a kind against the contract at compile time. */
export const defineSourceKind = <Options, C extends Connector>(k: SourceKind<Options, C>): SourceKind<Options, C> => k;

/** The order events of the core's commerce types (schema/commerce.graphql), the same in every commerce kind. */
export const ORDER_EVENT_FIELDS = {
  order_placed: { occurred: 'Order.placedAt', amount: 'Order.total', channel: 'Order.channel', status: 'Order.status' },
  order_paid: { occurred: 'Order.paidAt', amount: 'Order.total', channel: 'Order.channel', status: 'Order.status' },
  order_refunded: { occurred: 'Refund.refundedAt', title: 'Refund.reason', amount: 'Refund.amount', channel: 'Order.channel', status: 'Order.status' },
} as const satisfies Partial<Record<EventKind, EventOrigins>>;

/** The origin of an event value no kind declared: a field no role reads, so the value is withheld. */
const UNDECLARED = '(undeclared)';

/** The field an event of `kind` is read from (`occurred`), for the role schemas' narrowing of `Customer.timeline`; undeclared: none a role reads. */
export function eventOccurrence(fields: ReadonlyMap<EventKind, EventOrigins>, kind: EventKind): string {
  return fields.get(kind)?.occurred ?? UNDECLARED;
}

/** Where `event`'s `value` comes from, for the role schemas' derived-field check (src/access/role-schema.ts). */
export function eventOrigin(fields: ReadonlyMap<EventKind, EventOrigins>, event: unknown, value: EventValue): string | null {
  const origins = fields.get((event as { kind: EventKind }).kind);
  return origins && value in origins ? (origins[value] ?? null) : UNDECLARED;
}
